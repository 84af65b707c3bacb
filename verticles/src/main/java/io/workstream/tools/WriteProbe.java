package io.workstream.tools;

import com.google.protobuf.InvalidProtocolBufferException;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.workstream.config.Environment;
import io.workstream.config.Json;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.CreateWorkItem;
import io.workstream.protocol.v1.ProjectCursor;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.Subscribe;
import io.workstream.protocol.v1.WorkItemType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Watches a cluster through a failure: sends one create every {@code --interval-ms} to the node on {@code --port}
 * (open loop: a request stuck on a dead member does not hold up the next one) and prints one line per outcome, with
 * the wall-clock time, so the moment writes fail and the moment they succeed again can be read off. With
 * {@code --watch-port}, a subscriber on that node prints every change event it gets (and any gap or repeat in
 * {@code seq}): a create on one node reaching a subscriber on another.
 *
 * <pre>WriteProbe --port 8080 [--watch-port 8081] [--secret S | --conf conf/dev.json] [--interval-ms 100]
 *   [--timeout-ms 8000] [--duration-s 60]</pre>
 * Lines: {@code <epoch ms> write ok seq=N ms=L}, {@code <epoch ms> write FAIL <code|timeout|closed> ms=L},
 * {@code <epoch ms> event seq=N}; a summary at the end. A writer connection that closes is opened again.
 */
public final class WriteProbe {

  private final Map<String, String> opt;
  private final Vertx vertx = Vertx.vertx();
  private final WebSocketClient client = vertx.createWebSocketClient();
  private final String tenant = "probe-" + UUID.randomUUID();
  private final String project = UUID.randomUUID().toString();
  private final Map<String, Long> pending = new ConcurrentHashMap<>();
  private WebSocket writer;
  private boolean connecting;
  // Counted on the event loops, read by the main thread for the summary.
  private final AtomicInteger ok = new AtomicInteger();
  private final AtomicInteger failed = new AtomicInteger();
  private final AtomicInteger events = new AtomicInteger();
  private final AtomicInteger disorder = new AtomicInteger();
  private long lastSeq;
  private volatile boolean finished;

  private WriteProbe(Map<String, String> opt) {
    this.opt = opt;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opt = new HashMap<>(Map.of("host", "127.0.0.1", "conf", "conf/dev.json", "secret", "",
      "interval-ms", "100", "timeout-ms", "8000", "duration-s", "60"));
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        System.err.println("unexpected argument " + args[i]);
        System.exit(2);
      }
      opt.put(args[i].substring(2), args[i + 1]);
    }
    if (!opt.containsKey("port")) {
      System.err.println("usage: WriteProbe --port P [--watch-port Q] [--secret S | --conf FILE] [--interval-ms 100]"
        + " [--timeout-ms 8000] [--duration-s 60]");
      System.exit(2);
    }
    int status;
    try {
      status = new WriteProbe(opt).run();
    } catch (Exception e) {
      System.out.println(System.currentTimeMillis() + " probe FAIL " + e.getMessage());
      status = 1;
    }
    // Exits even when a Vert.x thread is still busy with a node that does not answer.
    System.exit(status);
  }

  private int run() throws Exception {
    String secret = opt.get("secret");
    if (secret.isEmpty()) {
      JsonObject config = Environment.apply(new JsonObject(Files.readString(Path.of(opt.get("conf")))),
        System.getenv());
      secret = Json.section(config, "auth").getString("secret");
    }
    String writerToken = TokenTool.token(secret, tenant, "probe-writer", new String[]{"member"}, 24 * 3600);
    String viewerToken = TokenTool.token(secret, tenant, "probe-viewer", new String[]{"viewer"}, 24 * 3600);
    if (opt.containsKey("watch-port")) {
      WebSocket watcher = client.connect(connectOptions(Integer.parseInt(opt.get("watch-port")), viewerToken))
        .await(10, TimeUnit.SECONDS);
      CountDownLatch subscribed = new CountDownLatch(1);
      watcher.binaryMessageHandler(frame -> onWatched(frame, subscribed));
      watcher.writeBinaryMessage(Buffer.buffer(ClientMessage.newBuilder().setMessageId(UUID.randomUUID().toString())
        .setSubscribe(Subscribe.newBuilder().addProjects(ProjectCursor.newBuilder().setProjectId(project)))
        .build().toByteArray()));
      if (!subscribed.await(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("no SubscribeAck from port " + opt.get("watch-port"));
      }
    }
    int port = Integer.parseInt(opt.get("port"));
    long interval = Long.parseLong(opt.get("interval-ms"));
    long timeout = Long.parseLong(opt.get("timeout-ms"));
    CountDownLatch done = new CountDownLatch(1);
    vertx.runOnContext(v -> {
      vertx.setPeriodic(interval, id -> tick(port, writerToken, timeout));
      vertx.setTimer(Long.parseLong(opt.get("duration-s")) * 1000, id -> done.countDown());
    });
    done.await();
    // The last requests get their time to answer.
    Thread.sleep(Math.min(timeout, 2000));
    finished = true;
    System.out.printf("summary writes ok=%d failed=%d events=%d seq-disorder=%d%n", ok.get(), failed.get(),
      events.get(), disorder.get());
    System.out.flush();
    vertx.close().await(10, TimeUnit.SECONDS);
    return disorder.get() == 0 ? 0 : 1;
  }

  private void tick(int port, String token, long timeout) {
    long now = System.currentTimeMillis();
    pending.entrySet().removeIf(sent -> {
      if (now - sent.getValue() >= timeout) {
        outcome("write FAIL timeout", sent.getValue());
        return true;
      }
      return false;
    });
    if (writer == null || writer.isClosed()) {
      if (!connecting) {
        connecting = true;
        client.connect(connectOptions(port, token)).onComplete(connected -> {
          connecting = false;
          if (connected.succeeded()) {
            writer = connected.result();
            writer.binaryMessageHandler(this::onReply);
            writer.closeHandler(v -> {
              pending.values().forEach(sent -> outcome("write FAIL closed", sent));
              pending.clear();
            });
          } else {
            System.out.println(System.currentTimeMillis() + " connect FAIL " + connected.cause().getMessage());
          }
        });
      }
      return;
    }
    String id = UUID.randomUUID().toString();
    pending.put(id, now);
    writer.writeBinaryMessage(Buffer.buffer(ClientMessage.newBuilder().setMessageId(id)
      .setCreateWorkItem(CreateWorkItem.newBuilder().setProjectId(project).setType(WorkItemType.TASK)
        .setTitle("probe " + id)).build().toByteArray()));
  }

  private void onReply(Buffer frame) {
    ServerMessage reply = parse(frame);
    Long sent = pending.remove(reply.getMessageId());
    if (sent == null) {
      return;
    }
    if (reply.hasWorkItemAck()) {
      outcome("write ok seq=" + reply.getWorkItemAck().getSeq(), sent);
    } else {
      outcome("write FAIL " + (reply.hasError() ? reply.getError().getCode() : reply.getPayloadCase()), sent);
    }
  }

  private void onWatched(Buffer frame, CountDownLatch subscribed) {
    ServerMessage message = parse(frame);
    if (message.hasSubscribeAck()) {
      subscribed.countDown();
    } else if (message.hasChangeEvent()) {
      long seq = message.getChangeEvent().getSeq();
      events.incrementAndGet();
      String note = "";
      if (seq != lastSeq + 1) {
        disorder.incrementAndGet();
        note = " (expected " + (lastSeq + 1) + ")";
      }
      lastSeq = Math.max(lastSeq, seq);
      System.out.println(System.currentTimeMillis() + " event seq=" + seq + note);
    }
  }

  private void outcome(String what, long sentAt) {
    if (finished) {
      return;
    }
    long now = System.currentTimeMillis();
    (what.startsWith("write ok") ? ok : failed).incrementAndGet();
    System.out.println(now + " " + what + " ms=" + (now - sentAt));
  }

  private WebSocketConnectOptions connectOptions(int port, String token) {
    return new WebSocketConnectOptions().setHost(opt.get("host")).setPort(port).setURI("/ws")
      .addHeader("Authorization", "Bearer " + token);
  }

  private static ServerMessage parse(Buffer frame) {
    try {
      return ServerMessage.parseFrom(frame.getBytes());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("not a ServerMessage", e);
    }
  }
}
