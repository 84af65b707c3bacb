package io.workstream.tools;

import com.google.protobuf.InvalidProtocolBufferException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.ProjectCursor;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.Subscribe;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Opens idle connections to a running Workstream service, for measuring what an idle connection costs the server:
 * each authenticates (a tenant per {@code --per-tenant} connections, within a tenant's burst of messages), subscribes to a project of its own and then
 * only answers the server's pings. Prints {@code ready N} once all are subscribed and holds them until killed.
 *
 * <pre>IdleConnections --port 8080 --secret S --connections 9000 --source 127.0.0.2 [--per-tenant 100]
 *   [--tenant-prefix idle-a]</pre>
 * {@code --source} is the local address to connect from: one address has about 28,000 ephemeral ports, so a large
 * run spreads its client processes over several loopback addresses.
 */
public final class IdleConnections {

  private static final int TOKEN_TTL_SECONDS = 24 * 3600;
  /** Connections being opened at once: the handshakes are what is expensive, for both sides. */
  private static final int OPENING_AT_ONCE = 200;
  private static final long TIMEOUT_RETRY_MS = 1_000;

  private IdleConnections() {
  }

  public static void main(String[] args) throws Exception {
    int port = 8080;
    int connections = 1_000;
    int perTenant = 100;
    String secret = "";
    String source = "127.0.0.1";
    String prefix = "idle-" + UUID.randomUUID().toString().substring(0, 8);
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(args[i + 1]);
        case "--connections" -> connections = Integer.parseInt(args[i + 1]);
        case "--per-tenant" -> perTenant = Integer.parseInt(args[i + 1]);
        case "--secret" -> secret = args[i + 1];
        case "--source" -> source = args[i + 1];
        case "--tenant-prefix" -> prefix = args[i + 1];
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions()
      .setLocalAddress(source).setMaxConnections(connections + 1));
    List<Future<Void>> subscribed = new ArrayList<>();
    for (int i = 0; i < connections; i++) {
      String token = TokenTool.token(secret, prefix + "-" + (i / perTenant), "idle-" + i, new String[]{"viewer"},
        TOKEN_TTL_SECONDS);
      subscribed.add(open(vertx, client, port, token));
      if (subscribed.size() % OPENING_AT_ONCE == 0) {
        Future.join(subscribed.subList(subscribed.size() - OPENING_AT_ONCE, subscribed.size()))
          .timeout(60, TimeUnit.SECONDS).await();
      }
    }
    Future.all(subscribed).timeout(120, TimeUnit.SECONDS).await();
    System.out.println("ready " + connections);
    Thread.currentThread().join();
  }

  /**
   * One connection: subscribed to a project of its own (resent after retry_after_ms when the node sheds it, and after
   * a second when it timed out), then idle (Vert.x answers the server's pings).
   */
  private static Future<Void> open(Vertx vertx, WebSocketClient client, int port, String token) {
    Promise<Void> subscribed = Promise.promise();
    String messageId = UUID.randomUUID().toString();
    Buffer subscribe = Buffer.buffer(ClientMessage.newBuilder().setMessageId(messageId)
      .setSubscribe(Subscribe.newBuilder().addProjects(ProjectCursor.newBuilder()
        .setProjectId(UUID.randomUUID().toString())))
      .build().toByteArray());
    client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/ws")
        .addHeader("Authorization", "Bearer " + token))
      .onFailure(subscribed::tryFail)
      .onSuccess(ws -> {
        ws.binaryMessageHandler(frame -> {
          ServerMessage reply = parse(frame);
          if (reply == null || !reply.getMessageId().equals(messageId)) {
            return;
          }
          String code = reply.hasError() ? reply.getError().getCode() : "";
          if (reply.hasSubscribeAck()) {
            subscribed.tryComplete();
          } else if (code.equals("SERVICE_UNAVAILABLE") || code.equals("RATE_LIMITED")) {
            vertx.setTimer(Math.max(1, reply.getError().getRetryAfterMs()), t -> ws.writeBinaryMessage(subscribe));
          } else if (code.equals("TIMEOUT")) {
            // A busy machine (the handshakes of thousands of connections): the same Subscribe again, a little later.
            vertx.setTimer(TIMEOUT_RETRY_MS, t -> ws.writeBinaryMessage(subscribe));
          } else {
            subscribed.tryFail("subscribe refused: " + code);
          }
        });
        ws.closeHandler(v -> subscribed.tryFail("closed by the server: " + ws.closeStatusCode()));
        ws.writeBinaryMessage(subscribe);
      });
    return subscribed.future();
  }

  private static ServerMessage parse(Buffer frame) {
    try {
      return ServerMessage.parseFrom(frame.getBytes());
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }
}
