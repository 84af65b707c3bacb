package io.workstream.gateway;

import io.vertx.core.Vertx;
import io.workstream.bus.Bus;

/** What every connection of one gateway instance shares; {@code id} names the instance on this node. */
record GatewayServices(Bus bus, GatewayConfig config, SubscriptionIndex index, GatewayMetrics metrics, Flusher flusher,
  String id) {

  Vertx vertx() {
    return bus.vertx();
  }
}
