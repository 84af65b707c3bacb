package io.workstream.health;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.workstream.Observability;
import io.workstream.bus.Bus;
import io.workstream.bus.Node;
import io.workstream.bus.NodeState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The management routes ({@link NodeHealth}) on a server of their own: on a node without a gateway (a core-only
 * node), or on any node given {@code management.port} ({@link ManagementConfig}). Otherwise an edge node serves the
 * same routes from its gateway. It closes only after the node's gateways have drained, so readiness answers 503
 * throughout a shutdown.
 */
public final class ManagementVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ManagementVerticle.class);

  private HttpServer server;

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    NodeHealth.mount(router, Bus.of(vertx), Observability.registryName(config()));
    // HTTP/1.1 only, here and on the gateway: WebSockets upgrade from HTTP/1.1, and probes and scrapers speak it, so
    // HTTP/2's cleartext upgrade (on by default in Vert.x) would add a second protocol stack to the edge for no
    // client. It also answered the JDK's HTTP client, which offers that upgrade by default, with responses the
    // client sometimes never completed (a 20-KB /metrics, within a few hundred requests).
    server = vertx.createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(false)).requestHandler(router);
    ManagementConfig management = ManagementConfig.from(config());
    return server.listen(management.port(), management.host())
      .onSuccess(s -> {
        Node node = Node.of(vertx);
        node.managementPort(s.actualPort());
        if (!node.runs(Node.EDGE)) {
          node.httpPort(s.actualPort());
        }
        LOG.info("management routes listening", kv("host", management.host()), kv("port", s.actualPort()));
      });
  }

  @Override
  public Future<?> stop() {
    return NodeState.of(vertx).gatewaysStopped(vertx, NodeState.drainWaitMs(config()))
      .compose(v -> server == null ? Future.succeededFuture() : server.close());
  }
}
