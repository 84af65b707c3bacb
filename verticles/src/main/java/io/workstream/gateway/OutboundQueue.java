package io.workstream.gateway;

import io.vertx.core.buffer.Buffer;
import io.workstream.bus.ProjectFrame;

/**
 * A connection's way out as its subscriptions see it: what they write and how they pace a replay. Falling behind and
 * not reading at all are the queue's own business ({@link Outbound}).
 */
interface OutboundQueue {

  /** A reply or a control message: never dropped. */
  void send(Buffer frame);

  /** A change event: dropped (with a Lagged) when the connection falls too far behind. */
  void event(String projectId, long seq, Buffer frame);

  /** A live change event, as every subscriber on the node gets it. */
  void event(ProjectFrame frame);

  /** Nothing waits and the socket has room: a frame written now goes out at once. */
  boolean writable();

  /**
   * Runs {@code action} once the socket has room and nothing waits ahead of it (now, if so already). Replays are
   * paced with it: they go out only as fast as this client reads.
   */
  void whenWritable(Runnable action);
}
