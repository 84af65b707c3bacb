package io.workstream.gateway;

import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.internal.http.WebSocketInternal;
import io.vertx.core.net.impl.VertxConnection;
import io.vertx.core.net.impl.VertxHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Lets an accepted WebSocket write straight to its channel, as {@code HttpServerOptions.setStrictThreadMode} makes
 * the HTTP/1 connection it was upgraded from do, instead of through Vert.x 5.0.7's cross-thread outbound queue. That
 * queue's first chunk is Netty's fixed 1,024 slots (about 4.6 KiB with the queue object), carried by every connection
 * however idle: a quarter of what an idle connection costs. Vert.x has no option for it on WebSockets, so this reaches
 * into {@code VertxConnection} by reflection — a last resort, confined to this class.
 *
 * <p>Sound only because every write to a gateway socket is made on its event loop ({@link Connection} is confined to
 * it), which is what strict thread mode asks. On that thread both queues behave alike: a write goes to the channel at
 * once while it is writable, is flushed at the end of the read in progress, and the drain handler runs when Netty's
 * write buffer (bounded by {@code setWriteQueueMaxSize}) falls under its low-water mark. The swap happens right after
 * the upgrade, on the event loop, before anything was written to the WebSocket, so no queued write is lost. Should
 * the internals not be what this expects (another Vert.x version), sockets keep their queue and a warning says so
 * once.
 */
final class DirectWrites {

  private static final Logger LOG = LoggerFactory.getLogger(DirectWrites.class);
  private static final Field QUEUE;
  private static final Constructor<?> DIRECT;

  static {
    Field queue = null;
    Constructor<?> direct = null;
    try {
      queue = VertxConnection.class.getDeclaredField("outboundMessageQueue");
      direct = Class.forName(VertxConnection.class.getName() + "$DirectOutboundMessageQueue")
        .getDeclaredConstructor(VertxConnection.class);
      if (!queue.getType().isAssignableFrom(direct.getDeclaringClass())) {
        throw new NoSuchFieldException("outboundMessageQueue cannot hold a DirectOutboundMessageQueue");
      }
      queue.setAccessible(true);
      direct.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("WebSockets keep Vert.x's outbound queue (about 4.6 KiB each): this Vert.x has no direct write "
        + "queue to swap in", kv("error", e.toString()));
      queue = null;
      direct = null;
    }
    QUEUE = queue;
    DIRECT = direct;
  }

  private DirectWrites() {
  }

  /**
   * Swaps the socket's outbound queue for direct writes; call on its event loop right after the upgrade, before
   * anything is written to it. Returns whether it did (false: the socket keeps its queue, and works as before).
   */
  static boolean apply(ServerWebSocket ws) {
    if (QUEUE == null || !(ws instanceof WebSocketInternal internal)) {
      return false;
    }
    var handler = internal.channelHandlerContext().pipeline().get(VertxHandler.class);
    if (handler == null || !internal.channelHandlerContext().executor().inEventLoop()
      || !internal.channelHandlerContext().channel().isWritable()) {
      return false;
    }
    VertxConnection connection = handler.getConnection();
    try {
      QUEUE.set(connection, DIRECT.newInstance(connection));
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.debug("a WebSocket keeps Vert.x's outbound queue", kv("error", e.toString()));
      return false;
    }
  }
}
