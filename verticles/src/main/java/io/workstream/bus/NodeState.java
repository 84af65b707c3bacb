package io.workstream.bus;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import io.workstream.config.Json;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The lifecycle of this node, shared by its verticles: whether it is draining (readiness then fails at once), and
 * when its last gateway has finished draining — the roles behind the gateways keep serving until then, so requests
 * in flight during a shutdown are answered.
 */
public final class NodeState implements Shareable {

  private static final String KEY = "node-state";

  private final AtomicBoolean draining = new AtomicBoolean();
  private int gateways;
  private final List<Runnable> whenNoGateways = new ArrayList<>();

  public static NodeState of(Vertx vertx) {
    return vertx.sharedData().<String, NodeState>getLocalMap("workstream.node-state")
      .computeIfAbsent(KEY, k -> new NodeState());
  }

  /** How long the roles behind the gateways wait for them to drain: the drain timeout and a little more. */
  public static long drainWaitMs(JsonObject config) {
    return Json.section(config, "gateway.drain").getLong("timeoutMs", 10_000L) + 2_000;
  }

  public boolean draining() {
    return draining.get();
  }

  public void startDraining() {
    draining.set(true);
  }

  public synchronized void gatewayStarted() {
    gateways++;
  }

  public void gatewayStopped() {
    List<Runnable> waiting;
    synchronized (this) {
      if (--gateways > 0) {
        return;
      }
      waiting = new ArrayList<>(whenNoGateways);
      whenNoGateways.clear();
    }
    waiting.forEach(Runnable::run);
  }

  /** Completes, on the caller's context, when no gateway of this node runs any more, or after {@code timeoutMs}. */
  public Future<Void> gatewaysStopped(Vertx vertx, long timeoutMs) {
    ContextInternal context = (ContextInternal) vertx.getOrCreateContext();
    Promise<Void> stopped = context.promise();
    synchronized (this) {
      if (gateways > 0) {
        whenNoGateways.add(() -> stopped.tryComplete());
        long timer = vertx.setTimer(timeoutMs, t -> stopped.tryComplete());
        return stopped.future().andThen(ar -> vertx.cancelTimer(timer));
      }
    }
    return Future.succeededFuture();
  }
}
