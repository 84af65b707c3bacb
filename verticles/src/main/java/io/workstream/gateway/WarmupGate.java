package io.workstream.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.shareddata.Shareable;

import java.util.ArrayList;
import java.util.List;

/**
 * One warm-up per node (per Vert.x instance, for its life): the gateway instance that claims it warms the node up; the
 * others wait for it to end before they listen, on their own event loops (the JIT's work serves every instance).
 */
final class WarmupGate implements Shareable {

  private static final String KEY = "warmup-gate";

  private boolean claimed;
  private boolean open;
  private final List<Runnable> waiting = new ArrayList<>();

  static WarmupGate of(Vertx vertx) {
    return (WarmupGate) vertx.sharedData().getLocalMap(GatewayVerticle.NODE_MAP).computeIfAbsent(KEY,
      k -> new WarmupGate());
  }

  /** Whether the caller is the one to warm the node up (the first to ask). */
  synchronized boolean claim() {
    if (claimed) {
      return false;
    }
    claimed = true;
    return true;
  }

  /** The warm-up is over, however it went. */
  void open() {
    List<Runnable> released;
    synchronized (this) {
      open = true;
      released = new ArrayList<>(waiting);
      waiting.clear();
    }
    released.forEach(Runnable::run);
  }

  /** Completes, on the caller's context, once the warm-up is over. */
  Future<Void> opened(Vertx vertx) {
    ContextInternal context = (ContextInternal) vertx.getOrCreateContext();
    Promise<Void> opened = context.promise();
    synchronized (this) {
      if (!open) {
        waiting.add(() -> opened.tryComplete());
        return opened.future();
      }
    }
    return Future.succeededFuture();
  }
}
