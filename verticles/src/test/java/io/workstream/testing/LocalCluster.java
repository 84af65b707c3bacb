package io.workstream.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A Workstream cluster of separate JVMs on loopback, for tests about processes: nodes started from the shaded jar
 * ({@code -Dworkstream.jar}, set by failsafe) with {@code -cluster -cluster-host 127.0.0.1}, all on the test's
 * database. Each cluster has a name and a Hazelcast port range of its own, so clusters of parallel tests (or a
 * {@code scripts/cluster} on the same host) never merge. Closing it stops every node that is still running.
 *
 * <pre>
 * try (LocalCluster cluster = LocalCluster.create(TestDatabase.shared())) {
 *   ClusterNode core = cluster.start("core-1", LocalCluster.CORE);
 *   ClusterNode edge = cluster.start("edge-1", LocalCluster.EDGE);
 *   cluster.awaitReady(Duration.ofSeconds(90));
 * }
 * </pre>
 */
public final class LocalCluster implements AutoCloseable {

  public static final List<String> EDGE = List.of("edge");
  public static final List<String> CORE = List.of("core");

  /** Small JVMs: a test cluster runs several on two cores. C1 only starts a little faster (about 1 s of 11). */
  static final List<String> JVM_OPTIONS = List.of("-Xmx256m", "-XX:TieredStopAtLevel=1");
  private static final int HAZELCAST_PORTS = 20;

  public final String name;
  /** The first Hazelcast member port of this cluster ({@code -Dworkstream.cluster.port}). */
  public final int hazelcastPort;
  private final TestDatabase db;
  private final Path dir;
  private final List<ClusterNode> nodes = new ArrayList<>();

  private LocalCluster(String name, int hazelcastPort, TestDatabase db, Path dir) {
    this.name = name;
    this.hazelcastPort = hazelcastPort;
    this.db = db;
    this.dir = dir;
  }

  public static LocalCluster create(TestDatabase db) {
    try {
      String name = "workstream-test-" + UUID.randomUUID();
      return new LocalCluster(name, freePortRange(), db, Files.createTempDirectory("workstream-cluster"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts a node running {@code units}; call {@link #awaitReady} (or the node's) before using it. */
  public ClusterNode start(String nodeName, List<String> units) {
    return start(nodeName, units, null);
  }

  /**
   * Starts a node with a Vert.x options file for the launcher's {@code -options} (event-bus TLS: the
   * {@code NODE.options.json} that {@code scripts/cluster-certs} writes), or none when {@code vertxOptions} is null.
   */
  public synchronized ClusterNode start(String nodeName, List<String> units, Path vertxOptions) {
    try {
      int port = freePort();
      JsonObject config = TestService.baseConfig(db)
        .put("node", new JsonObject().put("units", new JsonArray(units)));
      config.getJsonObject("http").put("port", port);
      Path conf = dir.resolve(nodeName + ".json");
      Files.writeString(conf, config.encodePrettily());
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(JVM_OPTIONS);
      command.addAll(List.of("-Dworkstream.cluster.name=" + name, "-Dworkstream.cluster.port=" + hazelcastPort,
        "-Dworkstream.node.name=" + nodeName,
        "-jar", System.getProperty("workstream.jar", "target/workstream.jar"),
        "run", "io.workstream.MainVerticle", "-conf", conf.toString(), "-cluster", "-cluster-host", "127.0.0.1"));
      if (vertxOptions != null) {
        command.addAll(List.of("-options", vertxOptions.toString()));
      }
      Path log = dir.resolve(nodeName + ".log");
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      // The same list as the configuration, for launchers that read the environment override.
      builder.environment().put("WORKSTREAM_UNITS", String.join(",", units));
      ClusterNode node = new ClusterNode(nodeName, List.copyOf(units), port, log, builder.start());
      nodes.add(node);
      return node;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits until every node started so far answers {@code /health/ready}. */
  public LocalCluster awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (ClusterNode node : nodes()) {
      node.awaitReady(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    }
    return this;
  }

  public synchronized List<ClusterNode> nodes() {
    return List.copyOf(nodes);
  }

  /** Every node's log tail, for an assertion message. */
  public String logs() {
    StringBuilder out = new StringBuilder();
    for (ClusterNode node : nodes()) {
      out.append("---- ").append(node).append('\n').append(node.logTail(40)).append('\n');
    }
    return out.toString();
  }

  /** SIGTERM to every node still running (they drain together), then SIGKILL to any that outlive the timeout. */
  @Override
  public void close() {
    List<ClusterNode> running = nodes().stream().filter(ClusterNode::isAlive).toList();
    List<Thread> stopping = new ArrayList<>();
    for (ClusterNode node : running) {
      Thread t = new Thread(() -> {
        try {
          node.terminate(Duration.ofSeconds(30));
        } catch (AssertionError e) {
          node.close();
        }
      }, "stop-" + node.name);
      t.start();
      stopping.add(t);
    }
    for (Thread t : stopping) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        nodes().forEach(ClusterNode::close);
        return;
      }
    }
  }

  /** A run of free ports for Hazelcast members, away from the default 5801 and from ephemeral ports. */
  static int freePortRange() throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int base = 20_000 + HAZELCAST_PORTS * ThreadLocalRandom.current().nextInt(500);
      if (rangeFree(base, 6)) {
        return base;
      }
    }
    throw new IOException("no free range of Hazelcast ports between 20000 and 30000");
  }

  private static boolean rangeFree(int base, int count) {
    for (int port = base; port < base + count; port++) {
      try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
        socket.setReuseAddress(true);
      } catch (IOException busy) {
        return false;
      }
    }
    return true;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
