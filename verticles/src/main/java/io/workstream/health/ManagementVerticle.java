package io.workstream.health;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.workstream.Observability;
import io.workstream.bus.Bus;
import io.workstream.bus.Node;
import io.workstream.config.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The management routes ({@link NodeHealth}) on a node without a gateway (a core-only node): {@code http.host} and
 * {@code http.port}. An edge node serves the same routes from its gateway.
 */
public final class ManagementVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ManagementVerticle.class);

  private HttpServer server;

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    NodeHealth.mount(router, Bus.of(vertx), Observability.registryName(config()));
    server = vertx.createHttpServer().requestHandler(router);
    var http = Json.section(config(), "http");
    return server.listen(http.getInteger("port", 8080), http.getString("host", "0.0.0.0"))
      .onSuccess(s -> Node.of(vertx).httpPort(s.actualPort()))
      .onSuccess(s -> LOG.info("management routes listening", kv("port", s.actualPort())));
  }
}
