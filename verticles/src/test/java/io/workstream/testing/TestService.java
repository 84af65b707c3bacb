package io.workstream.testing;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.workstream.MainVerticle;
import io.workstream.Observability;
import io.workstream.bus.Node;
import io.workstream.tools.TokenTool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The whole service (main verticle, four roles) in this JVM, on a free port, against a real PostgreSQL; clients
 * reach it over real sockets. Each instance has its own Vert.x for the service and another for its clients.
 */
public final class TestService implements AutoCloseable {

  public static final String SECRET = "test-secret-0123456789-0123456789-0123456789";

  public final Vertx vertx;
  public final Vertx clients;
  public final int port;
  public final JsonObject config;
  /** The main verticle's deployment: undeploying it stops the service the way SIGTERM does (graceful drain). */
  public final String deploymentId;

  private TestService(Vertx vertx, Vertx clients, int port, JsonObject config, String deploymentId) {
    this.vertx = vertx;
    this.clients = clients;
    this.port = port;
    this.config = config;
    this.deploymentId = deploymentId;
  }

  /**
   * The test configuration: a free port, the shared database, HS256 with {@link #SECRET}. The port is chosen here,
   * not left to the listen (0): with port 0 every gateway instance would bind a port of its own, and a test would
   * talk to one of them only — not the production shape, where the instances share one port.
   */
  public static JsonObject baseConfig(TestDatabase db) {
    return new JsonObject()
      .put("http", new JsonObject().put("host", "127.0.0.1").put("port", freePort()))
      .put("auth", new JsonObject().put("algorithm", "HS256").put("secret", SECRET))
      .put("gateway", new JsonObject().put("instances", 2))
      .put("db", db.dbConfig());
  }

  /** A port free on 127.0.0.1 at this moment. */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static TestService shared;

  /**
   * The service most tests share (they keep apart by using tenants and projects of their own): started once per
   * test JVM, stopped when it exits.
   */
  public static synchronized TestService shared() {
    if (shared == null) {
      shared = start(baseConfig(TestDatabase.shared()));
      Runtime.getRuntime().addShutdownHook(new Thread(shared::close));
    }
    return shared;
  }

  public static TestService start(JsonObject config) {
    // Meters of their own, apart from any other service of this JVM.
    String registry = "test-" + UUID.randomUUID();
    config.put("metrics", new JsonObject().put("registryName", registry));
    Vertx vertx = Vertx.vertx(Observability.withMetrics(new VertxOptions(), registry));
    String deploymentId;
    try {
      deploymentId = vertx.deployVerticle(MainVerticle.class, new DeploymentOptions().setConfig(config))
        .await(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      vertx.close();
      throw new IllegalStateException("the service did not start", e);
    }
    int port = Node.of(vertx).httpPort();
    return new TestService(vertx, Vertx.vertx(), port, config, deploymentId);
  }

  /** The port of the management routes: {@link #port} unless {@code management.port} gives them their own. */
  public int managementPort() {
    return Node.of(vertx).managementPort();
  }

  public String token(String tenantId, String userId, String... roles) {
    return tokenFor(tenantId, userId, roles);
  }

  /** A token every test service and node accepts. */
  public static String tokenFor(String tenantId, String userId, String... roles) {
    return TokenTool.token(SECRET, tenantId, userId, roles, 3600);
  }

  /** A connected client of a fresh user of {@code tenantId} with {@code roles}. */
  public WsClient connect(String tenantId, String... roles) {
    return WsClient.connect(clients, port, token(tenantId, "user-" + UUID.randomUUID(), roles));
  }

  public WsClient connectAs(String tenantId, String userId, String... roles) {
    return WsClient.connect(clients, port, token(tenantId, userId, roles));
  }

  /** A plain HTTP GET: status and body. */
  public HttpResult get(String path) {
    return get(port, path);
  }

  /**
   * A plain HTTP/1.1 GET to any node's port, with the JDK's client. Not Vert.x's: from a thread outside Vert.x, its
   * {@code request().compose(send).compose(body)} can lose the response's end (vert.x#6038, fixed after 5.0.7), and
   * the request then times out although the server answered.
   */
  public static HttpResult get(int port, String path) {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
    try {
      // The whole exchange within 20 s: the request's own timeout ends at the response's headers.
      HttpResponse<String> response = http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
        + path)).build(), HttpResponse.BodyHandlers.ofString()).get(20, TimeUnit.SECONDS);
      return new HttpResult(response.statusCode(), response.body());
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("GET " + path + " on port " + port + " failed" + Diagnostics.onTimeout(e, port),
        e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public record HttpResult(int status, String body) {
    public JsonObject json() {
      return new JsonObject(body);
    }
  }

  @Override
  public void close() {
    try {
      clients.close().await(30, TimeUnit.SECONDS);
      vertx.close().await(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
