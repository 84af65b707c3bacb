package io.workstream.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.workstream.Observability;
import io.workstream.bus.Bus;
import io.workstream.bus.Confined;
import io.workstream.bus.Endpoints;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.Failures;
import io.workstream.bus.Node;
import io.workstream.bus.NodeState;
import io.workstream.bus.RequestContext;
import io.workstream.bus.ReservedTenants;
import io.workstream.bus.UnfollowProject;
import io.workstream.health.ManagementConfig;
import io.workstream.health.NodeHealth;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The HTTP and WebSocket edge. {@code GET /ws} checks the JWT and the connection limits before the upgrade (401,
 * 429 or 503 with a JSON {@code {code, message}} otherwise), then each frame is a request answered on the same
 * socket. Also serves {@code /health*}, {@code /live}, {@code /ready} and {@code /metrics} ({@link NodeHealth}). Several instances share
 * the port. Stopping it drains: readiness fails at once, clients get Goodbye, requests in flight are answered, and
 * sockets close with 1001 within the drain timeout.
 *
 * <p>Sends {@code workstream.work-items} and {@code workstream.history} (cluster, request/reply),
 * {@code workstream.broadcast.follow|unfollow} (node). Consumes its own {@code workstream.gateway.events.<id>}
 * (node: encoded change events).
 */
public final class GatewayVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(GatewayVerticle.class);
  static final String NODE_MAP = "workstream.node";
  static final int CLOSING_TIMEOUT_SECONDS = 2;
  private static final String WEBSOCKET_PATH = "/ws";

  private final Set<Connection> connections = new HashSet<>();
  private GatewayConfig config;
  private GatewayServices services;
  private TokenVerifier verifier;
  private ConnectionLimits limits;
  private NodeState node;
  private HttpServer server;
  private Promise<Void> drained;
  /** This instance's event loop: its connections, timers and state live there alone. */
  private Confined eventLoop;

  @Override
  public Future<?> start() {
    eventLoop = new Confined("gateway instance");
    config = GatewayConfig.from(config()).checked();
    ManagementConfig management = ManagementConfig.from(config());
    node = NodeState.of(vertx);
    limits = (ConnectionLimits) vertx.sharedData().getLocalMap(NODE_MAP)
      .computeIfAbsent("connection-limits", k -> new ConnectionLimits());
    String gatewayId = UUID.randomUUID().toString();
    Bus bus = Bus.of(vertx);
    return TokenVerifier.create(vertx, config.auth()).compose(tokenVerifier -> {
      verifier = tokenVerifier;
      services = new GatewayServices(bus, config, new SubscriptionIndex(),
        new GatewayMetrics(Observability.registry(config()), gatewayId, connections),
        new Flusher(context, config.outbound().maxFlushDelayMicros()),
        message -> WebSocketWire.shared(message, config.maxFrameBytes()), gatewayId);
      FanOut fanOut = new FanOut(context, services.index());
      Router router = Router.router(vertx);
      if (!management.separate()) {
        NodeHealth.mount(router, bus, Observability.registryName(config()));
      }
      HttpServerOptions options = new HttpServerOptions()
        .setMaxWebSocketFrameSize(config.maxFrameBytes())
        .setMaxWebSocketMessageSize(config.maxFrameBytes())
        // No permessage-/perframe-deflate: the inflated size is not bounded before the message-size check, so one
        // small compressed frame could expand to gigabytes (a compression bomb). Frames are compact protobuf anyway.
        .setPerMessageWebSocketCompressionSupported(false)
        .setPerFrameWebSocketCompressionSupported(false)
        // How long a closed connection's client has to acknowledge before the socket is dropped.
        .setWebSocketClosingTimeout(CLOSING_TIMEOUT_SECONDS)
        // Every response and socket write is made on the connection's event loop, so the HTTP/1 connection needs no
        // cross-thread write queue: without this each one keeps a 1,024-slot queue (about 4.6 KiB), for as long as
        // the WebSocket upgraded from it lives. The WebSocket's own queue goes too (SocketTrim).
        .setStrictThreadMode(true)
        // HTTP/1.1 only, as on the management port (see ManagementVerticle): an h2c upgrade is answered in HTTP/1.1.
        .setHttp2ClearTextEnabled(false);
      if (config.outbound().socketSendBufferBytes() > 0) {
        options.setSendBufferSize(config.outbound().socketSendBufferBytes());
      }
      // The upgrade is Vert.x core's, not the router's: a socket accepted through the router is wrapped for the
      // connection's lifetime (a few hundred bytes more per connection), and neither SocketTrim nor the wire could
      // reach its Netty channel through the wrapper.
      server = vertx.createHttpServer(options).requestHandler(request -> {
        assert eventLoop.here();
        if (request.method() == HttpMethod.GET && WEBSOCKET_PATH.equals(request.path())) {
          upgrade(request);
        } else {
          router.handle(request);
        }
      });
      vertx.setPeriodic(tickMs(config), id -> tick());
      return bus.listen(Endpoints.GATEWAY_EVENTS.instance(gatewayId), fanOut::deliver).completion()
        .compose(v -> warmUpOnce(options))
        .compose(v -> server.listen(config.port(), config.host()));
    }).onSuccess(v -> {
      node.gatewayStarted();
      Node.of(vertx).httpPort(server.actualPort());
      if (!management.separate()) {
        Node.of(vertx).managementPort(server.actualPort());
      }
      LOG.info("gateway listening", kv("port", server.actualPort()),
        kv("transport", ((VertxInternal) vertx).transport().getClass().getSimpleName()));
    });
  }

  /**
   * Graceful shutdown: the node stops being ready, every client gets Goodbye, requests in flight are answered, then
   * sockets close with 1001 — those still open when the drain timeout is up are closed anyway.
   */
  @Override
  public Future<?> stop() {
    if (server == null) {
      return Future.succeededFuture();
    }
    node.startDraining();
    drained = Promise.promise();
    LOG.info("draining", kv("connections", connections.size()));
    List.copyOf(connections).forEach(Connection::drain);
    checkDrained();
    long deadline = vertx.setTimer(config.drain().timeoutMs(), t -> {
      List.copyOf(connections).forEach(Connection::closeNow);
      drained.tryComplete();
    });
    return drained.future()
      .eventually(() -> {
        vertx.cancelTimer(deadline);
        services.metrics().close();
        for (SubscriptionIndex.ProjectKey project : services.index().projects()) {
          services.bus().send(Endpoints.BROADCAST_UNFOLLOW,
            new UnfollowProject(project.tenantId(), project.projectId(), services.id()));
        }
        return server.close();
      })
      .eventually(() -> {
        node.gatewayStopped();
        return Future.succeededFuture();
      });
  }

  private void checkDrained() {
    if (drained != null && connections.isEmpty()) {
      drained.tryComplete();
    }
  }

  /** Verifies the token and takes a connection slot before the upgrade: a refused client never gets a socket. */
  private void upgrade(HttpServerRequest request) {
    if (drained != null || node.draining()) {
      refuse(request, 503, ErrorCode.SERVICE_UNAVAILABLE, "the server is shutting down; connect to another node");
      return;
    }
    verifier.verify(token(request))
      .onFailure(err -> {
        var refused = Failures.from(err);
        refuse(request, 401, refused.code(), refused.getMessage());
      })
      .onSuccess(principal -> accept(request, principal, config.rateLimit()));
  }

  /** Takes a connection slot for the verified {@code principal} and upgrades, or refuses when the node is full. */
  private void accept(HttpServerRequest request, Principal principal, GatewayConfig.RateLimit rate) {
    switch (limits.tryAcquire(principal.tenantId(), config.connections(), rate)) {
      case TENANT -> refuse(request, 429, ErrorCode.CONNECTION_LIMIT,
        "the tenant has " + config.connections().maxPerTenant() + " connections on this node");
      case NODE -> refuse(request, 503, ErrorCode.SERVICE_UNAVAILABLE, "this node is full; connect to another");
      case NONE -> request.toWebSocket()
        .onSuccess(ws -> connected(ws, principal, rate))
        .onFailure(err -> {
          limits.release(principal.tenantId());
          LOG.debug("websocket upgrade failed", kv("error", err.toString()));
        });
    }
  }

  /**
   * The first instance of the node to get here warms the node up; the others wait for that before they listen, so no
   * client reaches a cold node whichever instance accepts it.
   */
  private Future<Void> warmUpOnce(HttpServerOptions options) {
    if (!config.warmup().enabled()) {
      return Future.succeededFuture();
    }
    WarmupGate gate = WarmupGate.of(vertx);
    return gate.claim() ? warmUp(options).andThen(done -> gate.open()) : gate.opened(vertx);
  }

  /**
   * Warms this instance up ({@link Warmup}) through a listener of its own on an ephemeral loopback port, which
   * accepts only the random ticket made here for it — nothing outside this process knows it — and closes, with its
   * connections, when the warm-up ends. Its connections belong to a tenant of their own that no token can name
   * ({@link ReservedTenants}) and are not rate limited: they are the node's own. After each round the database
   * forgets that tenant. A warm-up that fails is logged, and the instance starts anyway: it is only slower at first.
   */
  private Future<Void> warmUp(HttpServerOptions options) {
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    String ticket = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    byte[] expected = ticket.getBytes(StandardCharsets.US_ASCII);
    long now = System.currentTimeMillis();
    Principal principal = new Principal(ReservedTenants.warmup(now), "warmup", Set.of(RequestContext.MEMBER),
      now + 3_600_000);
    HttpServer listener = vertx.createHttpServer(options).requestHandler(request -> {
      String offered = request.getHeader(Warmup.TICKET_HEADER);
      if (request.method() == HttpMethod.GET && WEBSOCKET_PATH.equals(request.path()) && offered != null
        && MessageDigest.isEqual(expected, offered.getBytes(StandardCharsets.US_ASCII))) {
        accept(request, principal, Warmup.RATE);
      } else {
        request.response().setStatusCode(404).end();
      }
    });
    return listener.listen(0, "127.0.0.1")
      .onSuccess(bound -> LOG.info("warming up", kv("port", bound.actualPort()),
        kv("rounds", config.warmup().rounds())))
      .compose(bound -> warmUpRounds(1, principal.tenantId(), new WebSocketConnectOptions()
        .setHost("127.0.0.1").setPort(bound.actualPort()).setURI(WEBSOCKET_PATH)
        .addHeader(Warmup.TICKET_HEADER, ticket)))
      .onFailure(err -> LOG.warn("warm-up failed; starting cold", kv("error", err.toString())))
      .eventually(listener::close)
      .<Void>mapEmpty()
      .otherwise((Void) null);
  }

  /**
   * Round {@code round} of the warm-up and those after it. Each round ends as the whole warm-up does — its sockets
   * closed, then a bus request outside any client's request for the database to forget its tenant — and the next
   * starts afresh. Code compiled without ever seeing that end is thrown away when it comes (JFR showed the event
   * bus's whole delivery path deoptimized by the first request without a request context) and compiled again while
   * the first clients wait; after another round it is compiled knowing it.
   */
  private Future<Void> warmUpRounds(int round, String tenantId, WebSocketConnectOptions target) {
    return new Warmup(vertx, config.warmup(), target).run()
      .onSuccess(outcome -> LOG.info("warmed up", kv("round", round), kv("subscribers", config.warmup().subscribers()),
        kv("replaced", outcome.replaced()), kv("creates", outcome.creates()), kv("refused", outcome.refused()),
        kv("deliveries", outcome.deliveries()), kv("elapsedMs", outcome.elapsedMs()),
        kv("compileMs", outcome.compileMs())))
      .eventually(() -> services.bus().request(Endpoints.PURGE_WARMUP, tenantId)
        .onSuccess(items -> LOG.info("warm-up data removed", kv("round", round), kv("items", items)))
        .onFailure(err -> LOG.warn("removing the warm-up's data failed", kv("tenantId", tenantId),
          kv("error", err.toString()))))
      .compose(outcome -> round < config.warmup().rounds()
        ? warmUpRounds(round + 1, tenantId, target) : Future.succeededFuture());
  }

  private void refuse(HttpServerRequest request, int status, ErrorCode code, String message) {
    services.metrics().refused(code.name());
    request.response()
      .setStatusCode(status)
      .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
      .end(new JsonObject().put("code", code.name()).put("message", message).encode());
  }

  private void connected(ServerWebSocket ws, Principal principal, GatewayConfig.RateLimit rate) {
    assert eventLoop.here();
    SocketTrim.apply(ws);
    Connection connection = new Connection(services, ws, principal, rate, limits.tenantRate(principal.tenantId()));
    connections.add(connection);
    ws.closeHandler(v -> {
      if (connections.remove(connection)) {
        limits.release(principal.tenantId());
        connection.closed();
        checkDrained();
      }
    });
    connection.start();
    if (drained != null) {
      connection.drain();
    }
  }

  private void tick() {
    assert eventLoop.here();
    long now = System.currentTimeMillis();
    for (Connection connection : List.copyOf(connections)) {
      connection.tick(now);
    }
  }

  /**
   * Often enough to notice idleness, stalls, due pings and quiet drained connections within a fraction of their
   * limits, and expired tokens within a second at most.
   */
  private static long tickMs(GatewayConfig config) {
    long shortest = Math.min(Math.min(config.heartbeat().pingIntervalMs(), config.heartbeat().idleTimeoutMs()),
      Math.min(config.outbound().slowClientTimeoutMs(), config.drain().quietMs()));
    return Math.max(50, Math.min(1_000, shortest / 4));
  }

  /** {@code Authorization: Bearer <jwt>}, or {@code ?access_token=<jwt>} for browsers (never logged). */
  private static String token(HttpServerRequest request) {
    String header = request.getHeader(HttpHeaders.AUTHORIZATION);
    if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return header.substring(7).trim();
    }
    return request.getParam("access_token");
  }
}
