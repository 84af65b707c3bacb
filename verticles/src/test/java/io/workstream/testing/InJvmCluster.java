package io.workstream.testing;

import com.hazelcast.config.Config;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.workstream.MainVerticle;
import io.workstream.WorkstreamLauncher;
import io.workstream.Observability;
import io.workstream.bus.Node;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * Several clustered Workstream nodes in this JVM, each a Vert.x instance with its own Hazelcast member (the jar's
 * {@code cluster.xml}, on loopback, under a cluster name of its own), against the test database. For the logic of a
 * cluster; tests about a process dying use separate JVMs.
 */
public final class InJvmCluster implements AutoCloseable {

  /** One node: its Vert.x, the port of its HTTP server, its metrics. */
  public record Member(Vertx vertx, int port, String registryName, String id) {
    public MeterRegistry registry() {
      return BackendRegistries.getNow(registryName);
    }
  }

  static {
    // cluster.xml names these; the launcher sets them for the service, the harness for the tests.
    WorkstreamLauncher.clusterDefaults(Map.of(), "127.0.0.1");
  }

  private final String name = "workstream-test-" + UUID.randomUUID();
  private final int hazelcastPort;
  private final List<Member> members = new ArrayList<>();
  private final Vertx clients = Vertx.vertx();

  public InJvmCluster() {
    try {
      hazelcastPort = LocalCluster.freePortRange();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Starts a node running {@code units}; {@code tune} may change its configuration or its Vert.x options. */
  public Member start(TestDatabase db, List<String> units, UnaryOperator<JsonObject> tune, VertxOptions options) {
    String registry = "cluster-test-" + UUID.randomUUID();
    JsonObject config = tune.apply(TestService.baseConfig(db)
      .put("node", new JsonObject().put("units", new JsonArray(units)))
      .put("metrics", new JsonObject().put("registryName", registry)));
    Config hazelcast = ConfigUtil.loadConfig().setClusterName(name);
    // A port range of this cluster's own, so other clusters on this host (other tests, one started by hand) are
    // never probed.
    hazelcast.getNetworkConfig().setPort(hazelcastPort).setPortAutoIncrement(true);
    hazelcast.getNetworkConfig().getJoin().getTcpIpConfig().setMembers(List.of("127.0.0.1:" + hazelcastPort,
      "127.0.0.1:" + (hazelcastPort + 1), "127.0.0.1:" + (hazelcastPort + 2), "127.0.0.1:" + (hazelcastPort + 3)));
    hazelcast.getNetworkConfig().getInterfaces().setInterfaces(List.of("127.0.0.1"));
    try {
      Vertx vertx = Vertx.builder()
        .with(Observability.withMetrics(options, registry))
        .withClusterManager(new HazelcastClusterManager(hazelcast))
        .buildClustered()
        .await(60, TimeUnit.SECONDS);
      vertx.deployVerticle(MainVerticle.class, new DeploymentOptions().setConfig(config)).await(60, TimeUnit.SECONDS);
      Member member = new Member(vertx, Node.of(vertx).httpPort(), registry, Node.of(vertx).id());
      members.add(member);
      return member;
    } catch (Exception e) {
      throw new IllegalStateException("a cluster node did not start", e);
    }
  }

  public Member start(TestDatabase db, List<String> units) {
    return start(db, units, c -> c, loopback());
  }

  public static VertxOptions loopback() {
    return new VertxOptions().setEventBusOptions(new EventBusOptions().setHost("127.0.0.1"));
  }

  public WsClient connect(Member member, String tenantId, String userId, String... roles) {
    return WsClient.connect(clients, member.port(), TestService.tokenFor(tenantId, userId, roles));
  }

  /** Stops a node the orderly way (it leaves the cluster). */
  public void stop(Member member) {
    members.remove(member);
    try {
      member.vertx().close().await(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    List.copyOf(members).forEach(this::stop);
    try {
      clients.close().await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
