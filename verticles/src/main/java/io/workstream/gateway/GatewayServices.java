package io.workstream.gateway;

import io.vertx.core.Vertx;

/** What every connection of one gateway instance shares. */
record GatewayServices(Vertx vertx, GatewayConfig config, SubscriptionIndex index, GatewayMetrics metrics,
                       String eventsAddress) {
}
