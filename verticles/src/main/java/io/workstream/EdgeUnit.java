package io.workstream;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.workstream.broadcast.TenantBroadcastVerticle;
import io.workstream.bus.Bus;
import io.workstream.bus.Endpoints;
import io.workstream.bus.Node;
import io.workstream.config.Json;
import io.workstream.gateway.GatewayVerticle;

/**
 * The edge unit of a node: its broadcast (one: it owns the node's project streams) and then its gateway instances
 * ({@code gateway.instances}, sharing the port): the first alone, which warms the node up, then the others. The two
 * always go together: a gateway hands subscriptions to the broadcast of its own node. Answers {@code workstream.unit.edge} once per node.
 */
public final class EdgeUnit extends VerticleBase {

  @Override
  public Future<?> start() {
    Bus bus = Bus.of(vertx);
    DeploymentOptions one = new DeploymentOptions().setConfig(config());
    int gateways = Json.section(config(), "gateway").getInteger("instances", 2);
    // The first gateway instance warms the node up before it listens (gateway.warmup); the JIT's work serves every
    // instance, so the others start after it, cold-free and without a warm-up of their own.
    JsonObject rest = config().copy();
    rest.put("gateway", Json.section(rest, "gateway").put("warmup", new JsonObject().put("enabled", false)));
    return vertx.deployVerticle(TenantBroadcastVerticle.class, one)
      .compose(v -> vertx.deployVerticle(GatewayVerticle.class, one))
      .compose(v -> gateways > 1
        ? vertx.deployVerticle(GatewayVerticle.class, new DeploymentOptions().setConfig(rest).setInstances(gateways - 1))
        : Future.succeededFuture())
      .compose(v -> bus.serve(Endpoints.unit(Node.EDGE), (request, probe) -> Future.succeededFuture(bus.nodeId()))
        .completion());
  }
}
