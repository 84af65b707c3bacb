package io.workstream.gateway;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.workstream.bus.Addresses;
import io.workstream.bus.Codecs;
import io.workstream.bus.Failures;
import io.workstream.bus.ProjectFrame;
import io.workstream.bus.UnfollowProject;
import io.workstream.bus.WorkstreamException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The HTTP and WebSocket edge. {@code GET /ws} checks the JWT before the upgrade (401 with a JSON
 * {@code {code, message}} otherwise), then each frame is a request answered on the same socket. Also serves
 * {@code /health*}, {@code /live}, {@code /ready} and {@code /metrics}. Several instances share the port.
 *
 * <p>Sends {@code workstream.work-items} (request/reply), {@code workstream.broadcast.subscribe|unsubscribe}
 * (node-local). Consumes its own {@code workstream.gateway.<id>.events} (node-local encoded change events).
 */
public final class GatewayVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(GatewayVerticle.class);
  /** Where the port the gateway listens on is published, for tools and tests that asked for port 0. */
  public static final String NODE_MAP = "workstream.node";
  public static final String HTTP_PORT_KEY = "http.port";

  private final Set<Connection> connections = new HashSet<>();
  private GatewayServices services;
  private TokenVerifier verifier;
  private HttpServer server;

  @Override
  public Future<?> start() {
    Codecs.register(vertx);
    GatewayConfig config = GatewayConfig.from(config());
    String gatewayId = UUID.randomUUID().toString();
    return TokenVerifier.create(vertx, config.auth()).compose(tokenVerifier -> {
      verifier = tokenVerifier;
      services = new GatewayServices(vertx, config, new SubscriptionIndex(), new GatewayMetrics(gatewayId, connections),
        Addresses.gatewayEvents(gatewayId));
      Router router = Router.router(vertx);
      router.get("/ws").handler(this::upgrade);
      router.get("/metrics").handler(PrometheusScrapingHandler.create());
      HealthRoutes.mount(router, vertx);
      server = vertx.createHttpServer(new HttpServerOptions()
          .setMaxWebSocketFrameSize(config.maxFrameBytes())
          .setMaxWebSocketMessageSize(config.maxFrameBytes()))
        .requestHandler(router);
      return Future.join(
        vertx.eventBus().<ProjectFrame>localConsumer(services.eventsAddress(), this::deliver).completion(),
        vertx.eventBus().consumer(Addresses.health("gateway"), msg -> msg.reply("ok")).completion(),
        server.listen(config.port(), config.host()));
    }).onSuccess(v -> {
      vertx.sharedData().getLocalMap(NODE_MAP).put(HTTP_PORT_KEY, server.actualPort());
      LOG.info("gateway listening", kv("port", server.actualPort()));
    });
  }

  @Override
  public Future<?> stop() {
    if (services != null) {
      services.metrics().close();
      for (SubscriptionIndex.ProjectKey project : services.index().projects()) {
        vertx.eventBus().send(Addresses.BROADCAST_UNSUBSCRIBE,
          new UnfollowProject(project.tenantId(), project.projectId(), services.eventsAddress()),
          new DeliveryOptions().setLocalOnly(true));
      }
    }
    return server == null ? Future.succeededFuture() : server.close();
  }

  /** Verifies the token before the upgrade: a refused client never gets a WebSocket. */
  private void upgrade(RoutingContext rc) {
    HttpServerRequest request = rc.request();
    verifier.verify(token(request))
      .onSuccess(principal -> request.toWebSocket()
        .onSuccess(ws -> connected(ws, principal))
        .onFailure(err -> LOG.debug("websocket upgrade failed", kv("error", err.toString()))))
      .onFailure(err -> {
        WorkstreamException refused = Failures.from(err);
        rc.response()
          .setStatusCode(401)
          .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
          .end(new JsonObject().put("code", refused.code().name()).put("message", refused.getMessage()).encode());
      });
  }

  private void connected(ServerWebSocket ws, Principal principal) {
    Connection connection = new Connection(services, ws, principal);
    connections.add(connection);
    ws.closeHandler(v -> {
      connections.remove(connection);
      connection.closed();
    });
    connection.start();
  }

  private void deliver(Message<ProjectFrame> msg) {
    ProjectFrame frame = msg.body();
    for (Connection connection : services.index().subscribers(frame.tenantId(), frame.projectId())) {
      connection.deliver(frame);
    }
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
