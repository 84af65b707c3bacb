package io.workstream.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.Collection;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The gateway's meters, scraped from {@code /metrics}: open connections, frames in and out, requests by operation
 * and error code, request latency.
 */
final class GatewayMetrics {

  private final MeterRegistry registry;
  private final Counter framesIn;
  private final Counter framesOut;
  private final Gauge connections;
  private final Counter lagged;
  private final AtomicLong queuedBytes = new AtomicLong();
  private final Gauge queued;
  private final AtomicLong heldBytes = new AtomicLong();
  private final Gauge held;

  GatewayMetrics(MeterRegistry registry, String gatewayId, Collection<?> openConnections) {
    this.registry = registry;
    this.framesIn = Counter.builder("workstream.frames").tag("direction", "in")
      .description("WebSocket frames received").register(registry);
    this.framesOut = Counter.builder("workstream.frames").tag("direction", "out")
      .description("WebSocket frames sent").register(registry);
    this.lagged = Counter.builder("workstream.subscribers.lagged")
      .description("Times a subscriber fell behind and had change events dropped").register(registry);
    this.queued = Gauge.builder("workstream.outbound.queued.bytes", queuedBytes, AtomicLong::get)
      .tag("gateway", gatewayId).description("Bytes waiting in connections' outbound queues").register(registry);
    this.held = Gauge.builder("workstream.connections.held.bytes", heldBytes, AtomicLong::get)
      .tag("gateway", gatewayId)
      .description("Bytes held for connections: queued frames, live events held while catching up, history in hand")
      .register(registry);
    this.connections = Gauge.builder("workstream.connections.open", openConnections, Collection::size)
      .tag("gateway", gatewayId).description("Open WebSocket connections").register(registry);
  }

  void frameIn() {
    framesIn.increment();
  }

  void frameOut() {
    framesOut.increment();
  }

  /** Bytes entering (positive) or leaving (negative) outbound queues. */
  void queued(long bytes) {
    queuedBytes.addAndGet(bytes);
  }

  /** Bytes a connection's budget takes (positive) or gives back (negative). */
  void held(long bytes) {
    heldBytes.addAndGet(bytes);
  }

  void lagged() {
    lagged.increment();
  }

  /** A connection closed by the server, by reason (slow client, rate abuse, token expired, idle, shutdown). */
  void closedByServer(String reason) {
    registry.counter("workstream.connections.closed", "reason", reason).increment();
  }

  /** A handshake refused, by code. */
  void refused(String code) {
    registry.counter("workstream.handshakes.refused", "code", code).increment();
  }

  /** One finished request: {@code code} is OK or the protocol error code. */
  void request(String operation, String code, long startNanos) {
    registry.counter("workstream.requests", "operation", operation, "code", code).increment();
    Timer.builder("workstream.request.latency")
      .tag("operation", operation)
      .publishPercentileHistogram()
      .register(registry)
      .record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }

  void close() {
    registry.remove(connections);
    registry.remove(queued);
    registry.remove(held);
  }
}
