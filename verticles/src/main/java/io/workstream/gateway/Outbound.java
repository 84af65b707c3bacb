package io.workstream.gateway;

import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.workstream.bus.ProjectFrame;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Function;

/**
 * One connection's way out: frames go straight to the socket while it keeps up, and wait in a queue bounded by
 * frames and by the connection's {@link ConnectionBudget} while it is full. When the queue overflows, the queued
 * change events are dropped (replies are kept) and the connection is told it lagged; a connection that cannot take
 * even that, or whose socket takes nothing at all for {@code slowClientTimeoutMs} while frames or reads wait for it,
 * is slow and is closed. Memory per connection stays bounded whatever the client does. Confined to the connection's
 * event loop.
 */
final class Outbound implements OutboundQueue {

  /** Who hears that change events were dropped. */
  @FunctionalInterface
  interface Dropped {

    /**
     * {@code firstDropped} holds, per project, the first seq that did not go out. Returns the Lagged frame to send
     * once the socket drains (null: nobody needs to be told).
     */
    Buffer lagged(Map<String, Long> firstDropped);
  }

  /** A message to write: {@code bytes}, or for a live event the frames every subscriber shares ({@code shared}). */
  private record Frame(Buffer bytes, ByteBuf shared, String projectId, long seq) {
    boolean isEvent() {
      return projectId != null;
    }
  }

  private final WebSocketWire wire;
  private final Function<Buffer, ByteBuf> liveFraming;
  private final GatewayConfig.Outbound limits;
  private final GatewayMetrics metrics;
  private final ConnectionBudget budget;
  // Sized for an idle connection (the default 16 slots cost each one 64 bytes); they grow when needed.
  private final ArrayDeque<Frame> queue = new ArrayDeque<>(1);
  private long queuedBytes;
  private Buffer laggedFrame;
  private long laggedSinceMs;
  /**
   * The Lagged went to the socket, but the socket has neither emptied its buffer nor taken more since: the client may
   * never have read it.
   */
  private boolean laggedInSocket;
  /** Since when the socket has taken nothing while something waits for it (0: it is taking what we write). */
  private long blockedSinceMs;
  private final ArrayDeque<Runnable> whenWritable = new ArrayDeque<>(1);
  private boolean closed;
  private Dropped dropped;
  private Runnable slow;

  Outbound(ServerWebSocket ws, GatewayServices gateway, ConnectionBudget budget) {
    this.limits = gateway.config().outbound();
    this.metrics = gateway.metrics();
    this.budget = budget;
    this.liveFraming = gateway.liveFraming();
    ws.setWriteQueueMaxSize(limits.socketWriteQueueBytes());
    this.wire = new WebSocketWire(ws, gateway.flusher(), gateway.config().maxFrameBytes(), this::flush);
  }

  /**
   * Who hears of an overflow, set once before the first frame: {@code dropped} when change events were dropped,
   * {@code slow} when the client takes nothing at all, not even a Lagged (it is to be closed).
   */
  void onOverflow(Dropped dropped, Runnable slow) {
    this.dropped = dropped;
    this.slow = slow;
  }

  @Override
  public void send(Buffer frame) {
    offer(new Frame(frame, null, null, 0));
  }

  @Override
  public void event(String projectId, long seq, Buffer frame) {
    offer(new Frame(frame, null, projectId, seq));
  }

  @Override
  public void event(ProjectFrame frame) {
    ByteBuf shared = frame.wire(liveFraming);
    if (writable()) {
      // The common case, once per subscriber per event: straight out, nothing allocated to remember it.
      wire.writeShared(shared);
      metrics.frameOut();
    } else {
      offer(new Frame(frame.frame(), shared, frame.projectId(), frame.seq()));
    }
  }

  /** Past the queue, whether the socket has room or not: one last small frame before closing. */
  void sendNow(Buffer frame) {
    if (!closed) {
      wire.write(frame);
    }
  }

  /**
   * Whether a Lagged has waited longer than a subscriber may take to read it (in the queue, or in the socket's buffer
   * that the client has taken nothing from since), or the socket has taken nothing for that long while frames or
   * reads wait for it: the client does not read at all.
   */
  boolean stalled(long nowMs) {
    if (laggedInSocket && wire.drained()) {
      laggedInSocket = false;
    }
    long timeoutMs = limits.slowClientTimeoutMs();
    return (laggedFrame != null || laggedInSocket) && nowMs - laggedSinceMs > timeoutMs
      || blockedSinceMs > 0 && nowMs - blockedSinceMs > timeoutMs;
  }

  @Override
  public boolean writable() {
    return !closed && isEmpty() && !wire.full();
  }

  @Override
  public void whenWritable(Runnable action) {
    if (writable()) {
      action.run();
    } else if (!closed) {
      whenWritable.add(action);
      blocked();
    }
  }

  /** The close frame is about to be written: nothing may follow it. What is queued stays until {@link #close}. */
  void stopWriting() {
    wire.close();
  }

  /** The socket is to go now, whatever waits for it (its client takes nothing, not even the close frame). */
  void abort() {
    wire.abort();
  }

  /** The socket closed: let go of everything. */
  void close() {
    closed = true;
    wire.close();
    while (!queue.isEmpty()) {
      dequeued(queue.poll());
    }
    laggedFrame = null;
    whenWritable.clear();
  }

  private boolean isEmpty() {
    return queue.isEmpty() && laggedFrame == null;
  }

  private void offer(Frame frame) {
    if (closed) {
      return;
    }
    if (isEmpty() && !wire.full()) {
      write(frame);
      return;
    }
    if (!enqueued(frame)) {
      overflow(frame);
    }
  }

  /** Queues the frame if the queue and the connection's budget have room for it. */
  private boolean enqueued(Frame frame) {
    if (queue.size() >= limits.maxQueuedFrames() || !budget.tryTake(frame.bytes().length())) {
      return false;
    }
    queue.add(frame);
    queuedBytes += frame.bytes().length();
    metrics.queued(frame.bytes().length());
    blocked();
    return true;
  }

  private void dequeued(Frame frame) {
    queuedBytes -= frame.bytes().length();
    metrics.queued(-frame.bytes().length());
    budget.give(frame.bytes().length());
  }

  private void blocked() {
    if (blockedSinceMs == 0) {
      blockedSinceMs = System.currentTimeMillis();
    }
  }

  /** The queue is full: drop the waiting change events and owe the client a Lagged, or give up on it. */
  private void overflow(Frame frame) {
    if (laggedFrame != null) {
      // Behind again before it could even be told: it is not reading at all.
      slow.run();
      return;
    }
    Map<String, Long> firstDropped = new HashMap<>();
    for (Iterator<Frame> it = queue.iterator(); it.hasNext(); ) {
      Frame queued = it.next();
      if (queued.isEvent()) {
        firstDropped.merge(queued.projectId(), queued.seq(), Math::min);
        it.remove();
        dequeued(queued);
      }
    }
    if (frame.isEvent()) {
      firstDropped.merge(frame.projectId(), frame.seq(), Math::min);
    }
    // Stopping the subscriptions gives back what they held, so a reply gets the room they took.
    laggedFrame = dropped.lagged(firstDropped);
    if (laggedFrame != null) {
      laggedSinceMs = System.currentTimeMillis();
      metrics.lagged();
      blocked();
    }
    if (!frame.isEvent() && !enqueued(frame)) {
      slow.run();
    }
  }

  private void write(Frame frame) {
    if (frame.shared() != null) {
      wire.writeShared(frame.shared());
    } else {
      wire.write(frame.bytes());
    }
    metrics.frameOut();
  }

  /** The socket takes writes again. */
  private void flush() {
    // The client read something: it is not stalled (it may still be slow, which the queue's bound deals with).
    blockedSinceMs = 0;
    laggedInSocket = false;
    while (!queue.isEmpty() && !wire.full()) {
      Frame frame = queue.poll();
      dequeued(frame);
      write(frame);
    }
    if (queue.isEmpty() && laggedFrame != null && !wire.full()) {
      // Into the socket's buffer, behind what the client has not taken yet: until it takes some of that, it is no
      // more told than before (and would hold that buffer until its idle timeout).
      wire.write(laggedFrame);
      metrics.frameOut();
      laggedFrame = null;
      laggedInSocket = true;
    }
    while (!whenWritable.isEmpty() && writable()) {
      whenWritable.poll().run();
    }
    if (!closed && (!isEmpty() || !whenWritable.isEmpty())) {
      blocked();
    }
  }
}
