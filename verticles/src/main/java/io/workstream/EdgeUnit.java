package io.workstream;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.workstream.broadcast.TenantBroadcastVerticle;
import io.workstream.bus.Bus;
import io.workstream.bus.Endpoints;
import io.workstream.bus.Node;
import io.workstream.config.Json;
import io.workstream.gateway.GatewayVerticle;

/**
 * The edge unit of a node: its broadcast (one: it owns the node's project streams) and then its gateway instances
 * ({@code gateway.instances}, sharing the port). The two always go together: a gateway hands subscriptions to the
 * broadcast of its own node. Answers {@code workstream.unit.edge} once per node.
 */
public final class EdgeUnit extends VerticleBase {

  @Override
  public Future<?> start() {
    Bus bus = Bus.of(vertx);
    DeploymentOptions one = new DeploymentOptions().setConfig(config());
    int gateways = Json.section(config(), "gateway").getInteger("instances", 2);
    return vertx.deployVerticle(TenantBroadcastVerticle.class, one)
      .compose(v -> vertx.deployVerticle(GatewayVerticle.class, new DeploymentOptions(one).setInstances(gateways)))
      .compose(v -> bus.serve(Endpoints.unit(Node.EDGE), (request, probe) -> Future.succeededFuture(bus.nodeId()))
        .completion());
  }
}
