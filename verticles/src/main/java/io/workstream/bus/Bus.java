package io.workstream.bus;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;

import java.util.function.BiFunction;

/**
 * The one way Workstream uses the event bus: every request, send, publish and consumer goes through here, so an
 * endpoint's {@link Scope} decides in one place whether a message may leave the node, and the request context
 * travels in headers set by {@link RequestContexts}' interceptors, never by call sites.
 */
public final class Bus {

  /** Options without a timeout or headers are never changed by a send: shared. */
  private static final DeliveryOptions NODE_ONLY = new DeliveryOptions().setLocalOnly(true);
  private static final DeliveryOptions ANYWHERE = new DeliveryOptions();

  private final Vertx vertx;
  private final EventBus eventBus;
  private final String nodeId;

  private Bus(Vertx vertx) {
    this.vertx = vertx;
    this.eventBus = vertx.eventBus();
    this.nodeId = Node.of(vertx).id();
  }

  /** The bus of this Vert.x instance, with Workstream's codecs and interceptors installed. */
  public static Bus of(Vertx vertx) {
    Codecs.register(vertx);
    RequestContexts.install(vertx);
    return new Bus(vertx);
  }

  public Vertx vertx() {
    return vertx;
  }

  /** The node this bus belongs to (node-scoped addresses carry it). */
  public String nodeId() {
    return nodeId;
  }

  /** Asks {@code to} and completes with its reply, or fails with the protocol code it failed with. */
  public <T, R> Future<R> request(Endpoint<T, R> to, T body) {
    return request(to, body, to.timeoutMs());
  }

  public <T, R> Future<R> request(Endpoint<T, R> to, T body, long timeoutMs) {
    DeliveryOptions options = new DeliveryOptions().setLocalOnly(to.scope() == Scope.NODE).setSendTimeout(timeoutMs);
    return eventBus.<R>request(to.address(nodeId), body, options).map(Message::body);
  }

  /** Fire and forget: one consumer of {@code to} gets it. */
  public <T> void send(Endpoint<T, ?> to, T body) {
    eventBus.send(to.address(nodeId), body, to.scope() == Scope.NODE ? NODE_ONLY : ANYWHERE);
  }

  /** Every consumer of {@code to} (for a CLUSTER endpoint: one per node that has one) gets it. */
  public <T> void publish(Endpoint<T, ?> to, T body) {
    eventBus.publish(to.address(nodeId), body, to.scope() == Scope.NODE ? NODE_ONLY : ANYWHERE);
  }

  /**
   * Answers requests to {@code at}: the handler gets the request's context (restored from its headers) and the
   * body; its result is the reply, its failure crosses the bus as a protocol code ({@link Failures}).
   */
  public <T, R> MessageConsumer<T> serve(Endpoint<T, R> at, BiFunction<RequestContext, T, Future<R>> handler) {
    return consumer(at, msg -> {
      Future<R> result;
      try {
        result = handler.apply(RequestContexts.current(), msg.body());
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      result.onComplete(msg::reply, failure -> Failures.reply(msg, failure));
    });
  }

  /** Takes messages sent or published to {@code at}. */
  public <T> MessageConsumer<T> listen(Endpoint<T, ?> at, Handler<T> handler) {
    return consumer(at, msg -> handler.handle(msg.body()));
  }

  private <T> MessageConsumer<T> consumer(Endpoint<T, ?> at, Handler<Message<T>> handler) {
    String address = at.address(nodeId);
    return at.scope() == Scope.NODE ? eventBus.localConsumer(address, handler) : eventBus.consumer(address, handler);
  }
}
