package io.workstream.gateway;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.internal.http.WebSocketInternal;

import java.nio.ByteBuffer;

/**
 * A connection's socket as its {@link Outbound} writes to it: complete binary WebSocket messages go straight into the
 * Netty channel, past Vert.x's per-connection write queue and frame encoder, and the instance's {@link Flusher}
 * flushes them, several messages at a time under load, instead of one system call per message. A change event is
 * framed once per node and every subscriber's socket gets a view of the same memory. Vert.x still writes pings,
 * pongs and the close frame into the same channel, so nothing overtakes a message written before them. Confined to
 * the connection's event loop.
 */
final class WebSocketWire {

  private static final byte FIN = (byte) 0x80;
  private static final byte BINARY = 0x02;
  private static final byte CONTINUATION = 0x00;

  private final ServerWebSocket ws;
  private final ChannelHandlerContext channel;
  private final Flusher flusher;
  private final int maxFrameBytes;
  private boolean unflushed;
  private boolean closed;

  /**
   * {@code maxFrameBytes}: messages longer than this go out as several frames, as Vert.x did (clients limit the
   * frame size they accept; Vert.x's own client to 64 KiB). {@code onWritable} runs when the socket takes writes
   * again after refusing them.
   */
  WebSocketWire(ServerWebSocket ws, Flusher flusher, int maxFrameBytes, Runnable onWritable) {
    if (!(ws instanceof WebSocketInternal internal)) {
      throw new IllegalArgumentException("a Vert.x core WebSocket is needed, not " + ws.getClass().getName());
    }
    this.ws = ws;
    this.flusher = flusher;
    this.maxFrameBytes = maxFrameBytes;
    // Our frames are final bytes: they enter the pipeline just before the WebSocket encoder (after TLS, were there
    // any), skipping it and Vert.x's handler.
    ChannelPipeline pipeline = internal.channelHandlerContext().pipeline();
    ChannelHandler writer = new ChannelInboundHandlerAdapter() {
      @Override
      public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
          onWritable.run();
        }
        ctx.fireChannelWritabilityChanged();
      }
    };
    ChannelHandlerContext encoder = pipeline.context(WebSocketFrameEncoder.class);
    if (encoder == null) {
      throw new IllegalStateException("the WebSocket's pipeline has no frame encoder: " + pipeline.names());
    }
    pipeline.addBefore(encoder.name(), null, writer);
    this.channel = pipeline.context(writer);
  }

  /** Whether everything written has left this process (for the kernel's buffers, or the client). */
  boolean drained() {
    ChannelOutboundBuffer buffer = channel.channel().unsafe().outboundBuffer();
    return buffer == null || buffer.totalPendingWriteBytes() == 0;
  }

  /** Whether the socket holds as many bytes as it may: what is written now waits in memory. */
  boolean full() {
    return !channel.channel().isWritable();
  }

  /** Writes one message (flushed at the end of this event-loop turn); once the socket is closing, nothing. */
  void write(Buffer message) {
    if (writing()) {
      send(encode(channel.alloc(), message, maxFrameBytes));
    }
  }

  /** Writes a message encoded with {@link #shared}. */
  void writeShared(ByteBuf frames) {
    if (writing()) {
      send(frames.duplicate());
    }
  }

  /** From now on nothing is written: the close frame is on its way (or the socket is gone). */
  void close() {
    closed = true;
  }

  /**
   * Drops the connection without waiting for anything queued to go out. From here, below Vert.x's handler: a close
   * passing it would be turned into another WebSocket close that waits to be written.
   */
  void abort() {
    closed = true;
    channel.close();
  }

  void flush() {
    unflushed = false;
    channel.flush();
  }

  private boolean writing() {
    if (!closed && ws.isClosed()) {
      // The client started the close: Vert.x answers it, and no data frame may follow the close frame.
      closed = true;
    }
    return !closed;
  }

  private void send(ByteBuf frames) {
    channel.write(frames, channel.voidPromise());
    if (!unflushed) {
      unflushed = true;
      flusher.flushLater(this);
    }
  }

  /**
   * The frames of one message for many sockets: in memory the garbage collector frees, never released by a write,
   * so each socket gets a {@link ByteBuf#duplicate()} of it.
   */
  static ByteBuf shared(Buffer message, int maxFrameBytes) {
    ByteBuf payload = ((BufferInternal) message).getByteBuf();
    ByteBuf frames = Unpooled.wrappedBuffer(ByteBuffer.allocateDirect(framedBytes(payload, maxFrameBytes))).clear();
    return Unpooled.unreleasableBuffer(writeFrames(frames, payload, maxFrameBytes));
  }

  /** A binary message as server frames (unmasked), split into frames of at most {@code maxFrameBytes}. */
  static ByteBuf encode(ByteBufAllocator alloc, Buffer message, int maxFrameBytes) {
    ByteBuf payload = ((BufferInternal) message).getByteBuf();
    return writeFrames(alloc.directBuffer(framedBytes(payload, maxFrameBytes)), payload, maxFrameBytes);
  }

  private static ByteBuf writeFrames(ByteBuf out, ByteBuf payload, int maxFrameBytes) {
    int length = payload.readableBytes();
    int frames = frames(length, maxFrameBytes);
    int offset = 0;
    for (int i = 0; i < frames; i++) {
      int chunk = Math.min(maxFrameBytes, length - offset);
      byte opcode = i == 0 ? BINARY : CONTINUATION;
      out.writeByte(i == frames - 1 ? FIN | opcode : opcode);
      if (chunk < 126) {
        out.writeByte(chunk);
      } else if (chunk <= 0xFFFF) {
        out.writeByte(126).writeShort(chunk);
      } else {
        out.writeByte(127).writeLong(chunk);
      }
      out.writeBytes(payload, payload.readerIndex() + offset, chunk);
      offset += chunk;
    }
    return out;
  }

  /** The exact size of the payload as frames: every frame full but the last. */
  private static int framedBytes(ByteBuf payload, int maxFrameBytes) {
    int length = payload.readableBytes();
    int frames = frames(length, maxFrameBytes);
    int last = length - (frames - 1) * maxFrameBytes;
    return length + (frames - 1) * headerBytes(maxFrameBytes) + headerBytes(last);
  }

  private static int frames(int length, int maxFrameBytes) {
    return Math.max(1, (length + maxFrameBytes - 1) / maxFrameBytes);
  }

  private static int headerBytes(int frameBytes) {
    return frameBytes < 126 ? 2 : frameBytes <= 0xFFFF ? 4 : 10;
  }
}
