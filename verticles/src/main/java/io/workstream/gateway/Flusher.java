package io.workstream.gateway;

import io.netty.util.concurrent.SingleThreadEventExecutor;
import io.vertx.core.Context;
import io.vertx.core.internal.ContextInternal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Flushes the sockets of one gateway instance once the event loop has nothing more queued: everything written in
 * between (a burst of change events, a reply and the events behind it) goes to each socket in one system call instead
 * of one per message. When the event loop is idle that is at once; while it is busy (events queued behind each other
 * under load) the flush waits for them, but never longer than {@code maxDelayMicros} after the first unflushed write.
 * So a message waits at most that long, and only when the node is loaded — when one system call per socket for
 * several messages is what keeps it from falling behind. Confined to the instance's event loop.
 */
final class Flusher {

  private final Context context;
  private final SingleThreadEventExecutor loop;
  private final long maxDelayNanos;
  private List<WebSocketWire> unflushed = new ArrayList<>();
  private List<WebSocketWire> flushing = new ArrayList<>();
  private long firstWriteNanos;

  Flusher(Context context, long maxDelayMicros) {
    this.context = context;
    // Vert.x's event loops are Netty's single-thread executors; any other kind is simply never waited for.
    this.loop = ((ContextInternal) context).nettyEventLoop() instanceof SingleThreadEventExecutor executor
      ? executor : null;
    this.maxDelayNanos = TimeUnit.MICROSECONDS.toNanos(maxDelayMicros);
  }

  /** Called once by a wire when it gets its first unflushed message. */
  void flushLater(WebSocketWire wire) {
    if (unflushed.isEmpty()) {
      firstWriteNanos = System.nanoTime();
      context.runOnContext(v -> flush());
    }
    unflushed.add(wire);
  }

  private void flush() {
    if (loop != null && loop.pendingTasks() > 0 && System.nanoTime() - firstWriteNanos < maxDelayNanos) {
      // More is queued (likely more events for the same sockets): let it be written first, then flush once.
      context.runOnContext(v -> flush());
      return;
    }
    // A flush can make a socket writable and so write more (to this list, flushed next turn): iterate a swapped one.
    List<WebSocketWire> wires = unflushed;
    unflushed = flushing;
    flushing = wires;
    for (WebSocketWire wire : wires) {
      wire.flush();
    }
    wires.clear();
  }
}
