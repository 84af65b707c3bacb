package io.workstream.gateway;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.internal.http.WebSocketInternal;
import io.vertx.core.net.impl.VertxConnection;
import io.vertx.core.net.impl.VertxHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.ref.WeakReference;
import java.lang.reflect.Field;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reflective steps of {@link SocketTrim} still find what they expect in this Vert.x (otherwise every connection
 * silently costs what they saved again), and a trimmed socket still writes, applies back-pressure and drains.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SocketTrimTest {

  private Vertx vertx;
  private HttpServer server;
  /** Held: a client nobody refers to is closed when it is collected, its connections with it. */
  private WebSocketClient client;
  private final CompletableFuture<ServerWebSocket> accepted = new CompletableFuture<>();
  private final CompletableFuture<Boolean> swapped = new CompletableFuture<>();
  private final CompletableFuture<Boolean> released = new CompletableFuture<>();
  private volatile WeakReference<HttpConnection> upgradedFrom;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    server = vertx.createHttpServer(new HttpServerOptions().setStrictThreadMode(true))
      .requestHandler(request -> {
        upgradedFrom = new WeakReference<>(request.connection());
        request.toWebSocket().onSuccess(ws -> {
          swapped.complete(SocketTrim.directWrites(ws));
          released.complete(SocketTrim.releaseUpgrade(ws));
          accepted.complete(ws);
        });
      });
    server.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    client = vertx.createWebSocketClient();
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void anAcceptedWebSocketWritesStraightToItsChannel() throws Exception {
    CompletableFuture<Buffer> received = new CompletableFuture<>();
    connect().binaryMessageHandler(received::complete);
    assertTrue(swapped.get(10, TimeUnit.SECONDS), "the socket's outbound queue was swapped");
    ServerWebSocket ws = accepted.get(10, TimeUnit.SECONDS);
    assertEquals("DirectOutboundMessageQueue", queueOf(ws).getClass().getSimpleName());
    onLoopOf(ws, () -> ws.writeBinaryMessage(Buffer.buffer("hello")));
    assertEquals("hello", received.get(10, TimeUnit.SECONDS).toString());
  }

  @Test
  void aSwappedWebSocketStillFillsUpAndDrains() throws Exception {
    WebSocket client = connect();
    client.pause();
    assertTrue(swapped.get(10, TimeUnit.SECONDS));
    ServerWebSocket ws = accepted.get(10, TimeUnit.SECONDS);
    CompletableFuture<Integer> full = new CompletableFuture<>();
    CompletableFuture<Void> drained = new CompletableFuture<>();
    onLoopOf(ws, () -> {
      ws.setWriteQueueMaxSize(64 * 1024);
      ws.drainHandler(v -> drained.complete(null));
      Buffer chunk = Buffer.buffer(new byte[16 * 1024]);
      int written = 0;
      while (!ws.writeQueueFull() && written < 100_000) {
        ws.writeBinaryMessage(chunk);
        written++;
      }
      full.complete(written);
    });
    assertTrue(full.get(10, TimeUnit.SECONDS) < 100_000, "the socket reported a full write queue");
    assertTrue(!drained.isDone());
    client.resume();
    drained.get(10, TimeUnit.SECONDS);
  }

  @Test
  void aTrimmedWebSocketLetsGoOfTheHttpConnectionItWasUpgradedFrom() throws Exception {
    CompletableFuture<Buffer> received = new CompletableFuture<>();
    connect().binaryMessageHandler(received::complete);
    assertTrue(released.get(10, TimeUnit.SECONDS), "the handler's connection factory was replaced");
    ServerWebSocket ws = accepted.get(10, TimeUnit.SECONDS);
    for (int i = 0; i < 50 && upgradedFrom.get() != null; i++) {
      System.gc();
      Thread.sleep(20);
    }
    assertNull(upgradedFrom.get(), "the HTTP/1 connection is still reachable");
    onLoopOf(ws, () -> ws.writeBinaryMessage(Buffer.buffer("still open")));
    assertEquals("still open", received.get(10, TimeUnit.SECONDS).toString());
  }

  private WebSocket connect() throws Exception {
    return client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(server.actualPort()).setURI("/ws"))
      .await(10, TimeUnit.SECONDS);
  }

  private static void onLoopOf(ServerWebSocket ws, Runnable action) {
    ((WebSocketInternal) ws).channelHandlerContext().executor().execute(action);
  }

  private static Object queueOf(ServerWebSocket ws) throws ReflectiveOperationException {
    VertxConnection connection = ((WebSocketInternal) ws).channelHandlerContext().pipeline().get(VertxHandler.class)
      .getConnection();
    Field queue = VertxConnection.class.getDeclaredField("outboundMessageQueue");
    queue.setAccessible(true);
    return queue.get(connection);
  }
}
