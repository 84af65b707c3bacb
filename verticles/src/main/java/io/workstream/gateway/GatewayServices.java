package io.workstream.gateway;

import io.netty.buffer.ByteBuf;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.workstream.bus.Bus;

import java.util.function.Function;

/**
 * What every connection of one gateway instance shares; {@code id} names the instance on this node.
 * {@code liveFraming} makes a live event's frames for every socket ({@link WebSocketWire#shared}), made once so that a
 * delivery allocates nothing for it.
 */
record GatewayServices(Bus bus, GatewayConfig config, SubscriptionIndex index, GatewayMetrics metrics, Flusher flusher,
  Function<Buffer, ByteBuf> liveFraming, String id) {

  Vertx vertx() {
    return bus.vertx();
  }
}
