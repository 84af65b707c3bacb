package io.workstream;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.workstream.broadcast.TenantBroadcastVerticle;
import io.workstream.config.Json;
import io.workstream.db.DbVerticle;
import io.workstream.gateway.GatewayVerticle;
import io.workstream.workitems.WorkItemVerticle;

/**
 * Deploys the four roles from one configuration: the DB verticle and the broadcast once per node (they own the
 * pool and the node's subscriptions), then the work-item handlers and the gateway in as many instances as
 * configured. With {@code -instances N} every instance adds its handlers and gateways; the node roles stay single.
 * The gateway goes last, so the node accepts clients only when everything behind it is ready.
 */
public final class MainVerticle extends VerticleBase {

  private static final String NODE_ROLES_DEPLOYED = "node-roles-deployed";

  @Override
  public Future<?> start() {
    JsonObject config = config();
    return nodeRoles(config)
      .compose(v -> vertx.deployVerticle(WorkItemVerticle.class, options(config, "workItems", 1)))
      .compose(v -> vertx.deployVerticle(GatewayVerticle.class, options(config, "gateway", 2)));
  }

  private Future<Void> nodeRoles(JsonObject config) {
    return vertx.sharedData().getLocalLock("workstream.node-roles").compose(lock -> {
      LocalMap<String, Object> node = vertx.sharedData().getLocalMap(GatewayVerticle.NODE_MAP);
      Future<Void> deployed = node.containsKey(NODE_ROLES_DEPLOYED) ? Future.succeededFuture()
        : vertx.deployVerticle(DbVerticle.class, new DeploymentOptions().setConfig(config))
        .compose(v -> vertx.deployVerticle(TenantBroadcastVerticle.class, new DeploymentOptions().setConfig(config)))
        .map(v -> {
          node.put(NODE_ROLES_DEPLOYED, true);
          return null;
        });
      return deployed.eventually(() -> {
        lock.release();
        return Future.succeededFuture();
      });
    });
  }

  private static DeploymentOptions options(JsonObject config, String section, int defaultInstances) {
    return new DeploymentOptions()
      .setConfig(config)
      .setInstances(Json.section(config, section).getInteger("instances", defaultInstances));
  }
}
