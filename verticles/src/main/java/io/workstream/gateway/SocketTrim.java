package io.workstream.gateway;

import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.internal.http.WebSocketInternal;
import io.vertx.core.net.impl.VertxConnection;
import io.vertx.core.net.impl.VertxHandler;
import io.netty.channel.ChannelHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.util.function.Function;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * What an accepted WebSocket lets go of, right after the upgrade, so that an idle connection costs little more than
 * its channel and its own state. Vert.x 5.0.7 has no option for either of the two steps below, so both reach into
 * its internals by reflection — a last resort, confined to this class. Should the internals not be what this
 * expects (another Vert.x version), a socket simply keeps what it had, and a warning says so once.
 *
 * <ul>
 *   <li>{@link #directWrites}: the socket writes straight to its channel, as {@code setStrictThreadMode} makes the
 *   HTTP/1 connection do, instead of through Vert.x's cross-thread outbound queue, whose first chunk is Netty's fixed
 *   1,024 slots (about 4.6 KiB with the queue object), carried by every connection however idle. Sound only because
 *   every write to a gateway socket is made on its event loop ({@link Connection} is confined to it), which is what
 *   strict thread mode asks. On that thread both behave alike: a write goes to the channel at once while it is
 *   writable, is flushed at the end of the read in progress, and the drain handler runs when Netty's write buffer
 *   (bounded by {@code setWriteQueueMaxSize}) falls under its low-water mark. The swap is made on the event loop
 *   before anything was written to the socket, so no queued write is lost.</li>
 *   <li>{@link #releaseUpgrade}: the channel handler that created the WebSocket's connection keeps the function that
 *   did it, and through it the whole HTTP/1 exchange it was upgraded from — connection, request, response,
 *   handshaker, about 1.5 KiB. The function is never called again; it is replaced by one that holds only the
 *   connection it made.</li>
 * </ul>
 */
final class SocketTrim {

  private static final Logger LOG = LoggerFactory.getLogger(SocketTrim.class);
  private static final Field QUEUE;
  private static final Constructor<?> DIRECT;
  private static final Field FACTORY;

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
      LOG.warn("WebSockets keep Vert.x's outbound queue (about 4.6 KiB each): no direct write queue to swap in",
        kv("error", e.toString()));
      queue = null;
      direct = null;
    }
    QUEUE = queue;
    DIRECT = direct;
    Field factory = null;
    try {
      factory = VertxHandler.class.getDeclaredField("connectionFactory");
      if (factory.getType() != Function.class) {
        throw new NoSuchFieldException("connectionFactory is not a Function");
      }
      factory.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("WebSockets keep the HTTP/1 exchange they were upgraded from (about 1.5 KiB each)",
        kv("error", e.toString()));
      factory = null;
    }
    FACTORY = factory;
  }

  private SocketTrim() {
  }

  /** Both steps, and the upgrade request's headers; call on the socket's event loop right after the upgrade. */
  static void apply(ServerWebSocket ws) {
    directWrites(ws);
    releaseUpgrade(ws);
    // Vert.x keeps them for the socket's whole life, the bearer token among them; nothing reads them after the
    // upgrade (the principal has what the connection needs).
    ws.headers().clear();
  }

  /**
   * Swaps the socket's outbound queue for direct writes. Returns whether it did (false: the socket keeps its queue,
   * and works as before).
   */
  static boolean directWrites(ServerWebSocket ws) {
    VertxHandler<?> handler = handler(ws);
    if (QUEUE == null || handler == null || !handler.getConnection().channelHandlerContext().channel().isWritable()) {
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

  /** Lets the socket's channel handler forget how its connection was made. Returns whether it did. */
  static boolean releaseUpgrade(ServerWebSocket ws) {
    VertxHandler<?> handler = handler(ws);
    if (FACTORY == null || handler == null) {
      return false;
    }
    VertxConnection connection = handler.getConnection();
    Function<ChannelHandlerContext, VertxConnection> made = ctx -> connection;
    try {
      FACTORY.set(handler, made);
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.debug("a WebSocket keeps its HTTP/1 exchange", kv("error", e.toString()));
      return false;
    }
  }

  /** The handler of the socket's own connection, when on its event loop (null otherwise). */
  private static VertxHandler<?> handler(ServerWebSocket ws) {
    if (!(ws instanceof WebSocketInternal internal) || !internal.channelHandlerContext().executor().inEventLoop()) {
      return null;
    }
    VertxHandler<?> handler = internal.channelHandlerContext().pipeline().get(VertxHandler.class);
    return handler != null && handler.getConnection() != null ? handler : null;
  }
}
