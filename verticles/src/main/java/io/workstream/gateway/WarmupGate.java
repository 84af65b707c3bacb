package io.workstream.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.shareddata.Shareable;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One warm-up per node (per Vert.x instance, for its life): the gateway instance that claims it warms the node up; the
 * others wait for it to end before they listen, on their own event loops (the JIT's work serves every instance).
 */
final class WarmupGate implements Shareable {

  private static final String KEY = "warmup-gate";

  private final AtomicBoolean claimed = new AtomicBoolean();
  private final Promise<Void> over = Promise.promise();

  static WarmupGate of(Vertx vertx) {
    return (WarmupGate) vertx.sharedData().getLocalMap(GatewayVerticle.NODE_MAP).computeIfAbsent(KEY,
      k -> new WarmupGate());
  }

  /** Whether the caller is the one to warm the node up (the first to ask). */
  boolean claim() {
    return claimed.compareAndSet(false, true);
  }

  /** The warm-up is over, however it went. */
  void open() {
    over.tryComplete();
  }

  /** Completes, on the caller's context, once the warm-up is over. */
  Future<Void> opened(Vertx vertx) {
    Promise<Void> opened = ((ContextInternal) vertx.getOrCreateContext()).promise();
    over.future().onComplete(done -> opened.tryComplete());
    return opened.future();
  }
}
