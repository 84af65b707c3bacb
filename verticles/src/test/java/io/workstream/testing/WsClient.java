package io.workstream.testing;

import com.google.protobuf.InvalidProtocolBufferException;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.ServerMessage;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A real WebSocket client for tests, used from the test thread: requests wait for the reply that echoes their
 * message id; pushes (change events, Lagged, Goodbye) and replies without a message id queue up to be taken.
 */
public final class WsClient implements AutoCloseable {

  public static final Duration TIMEOUT = Duration.ofSeconds(15);

  // Held for the connection's lifetime: Vert.x closes a client that becomes unreachable, and its connections with it.
  private final WebSocketClient client;
  private final ClientWebSocket ws;
  private final Map<String, CompletableFuture<ServerMessage>> pending = new ConcurrentHashMap<>();
  private final BlockingQueue<ServerMessage> pushes = new LinkedBlockingQueue<>();
  private final BlockingQueue<ServerMessage> anonymous = new LinkedBlockingQueue<>();
  private final CompletableFuture<Short> closed = new CompletableFuture<>();

  private WsClient(WebSocketClient client, ClientWebSocket ws) {
    this.client = client;
    this.ws = ws;
    ws.binaryMessageHandler(this::onFrame);
    ws.closeHandler(v -> {
      closed.complete(ws.closeStatusCode());
      String why = "connection closed (" + ws.closeStatusCode() + " " + ws.closeReason() + ")";
      pending.values().forEach(f -> f.completeExceptionally(new IllegalStateException(why)));
    });
  }

  public static WsClient connect(Vertx vertx, int port, String token) {
    return connect(vertx, new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
      .setURI("/ws").addHeader("Authorization", "Bearer " + token));
  }

  /** Connects with explicit options; fails with the upgrade's refusal ({@code UpgradeRejectedException}). */
  public static WsClient connect(Vertx vertx, WebSocketConnectOptions options) {
    return connect(vertx, new WebSocketClientOptions(), options);
  }

  /** With client options too (a small receive buffer makes a stalled reader fill up quickly). */
  public static WsClient connect(Vertx vertx, WebSocketClientOptions clientOptions, WebSocketConnectOptions options) {
    WebSocketClient client = vertx.createWebSocketClient(clientOptions);
    try {
      // Handlers are in place before the connection: a frame the server sends at once (an expired token's error)
      // must not arrive before anyone listens.
      WsClient connected = new WsClient(client, client.webSocket());
      connected.ws.connect(options).await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return connected;
    } catch (java.util.concurrent.TimeoutException e) {
      client.close();
      throw new IllegalStateException(e);
    } catch (RuntimeException e) {
      client.close();
      throw e;
    }
  }

  private void onFrame(Buffer frame) {
    ServerMessage message;
    try {
      message = ServerMessage.parseFrom(frame.getBytes());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("the server sent a frame that is not a ServerMessage", e);
    }
    CompletableFuture<ServerMessage> waiting = message.getMessageId().isEmpty() ? null
      : pending.remove(message.getMessageId());
    if (waiting != null) {
      waiting.complete(message);
    } else if (message.hasChangeEvent() || message.hasLagged() || message.hasGoodbye()) {
      pushes.add(message);
    } else {
      anonymous.add(message);
    }
  }

  /** Sends {@code request} (with a fresh message id unless it has one) and waits for its reply. */
  public ServerMessage request(ClientMessage.Builder request) {
    if (request.getMessageId().isEmpty()) {
      request.setMessageId(UUID.randomUUID().toString());
    }
    CompletableFuture<ServerMessage> reply = sendAsync(request.build());
    try {
      return reply.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("no reply to " + request.getPayloadCase() + " " + request.getMessageId(), e);
    }
  }

  /** Sends without waiting; the future completes with the reply echoing the message id. */
  public CompletableFuture<ServerMessage> sendAsync(ClientMessage request) {
    CompletableFuture<ServerMessage> reply = new CompletableFuture<>();
    pending.put(request.getMessageId(), reply);
    ws.writeBinaryMessage(Buffer.buffer(request.toByteArray()));
    return reply;
  }

  /**
   * Sends as a well-behaved client does: a refusal as overload ({@code SERVICE_UNAVAILABLE}, {@code RATE_LIMITED})
   * is resent with the same message id after the {@code retry_after_ms} it names; the future completes with the
   * first other reply.
   */
  public CompletableFuture<ServerMessage> sendPolitely(ClientMessage request) {
    return sendAsync(request).thenCompose(reply -> {
      String code = reply.hasError() ? reply.getError().getCode() : "";
      if (!code.equals("SERVICE_UNAVAILABLE") && !code.equals("RATE_LIMITED")) {
        return CompletableFuture.completedFuture(reply);
      }
      return CompletableFuture.runAsync(() -> { },
          CompletableFuture.delayedExecutor(reply.getError().getRetryAfterMs(), TimeUnit.MILLISECONDS))
        .thenCompose(v -> sendPolitely(request));
    });
  }

  /** Stops reading from the socket: the server sees a client that does not keep up. */
  public void pause() {
    ws.pause();
  }

  public void resume() {
    ws.resume();
  }

  public void sendBinary(Buffer frame) {
    ws.writeBinaryMessage(frame);
  }

  public void sendText(String text) {
    ws.writeTextMessage(text);
  }

  /** The next reply that carried no message id (errors to undecodable frames, replies to id-less requests). */
  public ServerMessage nextAnonymous() {
    return take(anonymous, "a reply without message id");
  }

  /** The next reply without message id if one arrived, without waiting. */
  public ServerMessage pollAnonymous() {
    return anonymous.poll();
  }

  public ServerMessage nextPush() {
    return take(pushes, "a push");
  }

  /** The next {@code count} change events, in arrival order. */
  public List<ChangeEvent> events(int count) {
    List<ChangeEvent> events = new ArrayList<>(count);
    while (events.size() < count) {
      ServerMessage push = nextPush();
      if (!push.hasChangeEvent()) {
        throw new AssertionError("expected a change event, got " + push);
      }
      events.add(push.getChangeEvent());
    }
    return events;
  }

  public ChangeEvent nextEvent() {
    return events(1).get(0);
  }

  /** Pushes received so far and not taken. */
  public List<ServerMessage> drainPushes() {
    List<ServerMessage> drained = new ArrayList<>();
    pushes.drainTo(drained);
    return drained;
  }

  /** Waits for the server to close the connection; returns the close status code. */
  public short awaitClose() {
    try {
      return closed.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("the connection was not closed", e);
    }
  }

  public boolean isClosed() {
    return closed.isDone();
  }

  private static ServerMessage take(BlockingQueue<ServerMessage> queue, String what) {
    try {
      ServerMessage message = queue.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      if (message == null) {
        throw new AssertionError("no " + what + " within " + TIMEOUT);
      }
      return message;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
