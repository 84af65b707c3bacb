package io.workstream.tools;

import com.google.protobuf.InvalidProtocolBufferException;
import io.vertx.core.Context;
import io.vertx.core.Deployable;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.workstream.config.Environment;
import io.workstream.config.Json;
import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.CreateWorkItem;
import io.workstream.protocol.v1.ProjectCursor;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.Subscribe;
import io.workstream.protocol.v1.WorkItemType;
import org.HdrHistogram.Histogram;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drives a running Workstream service over real WebSockets and prints one block of figures.
 *
 * <p>Subscribers (viewer role) subscribe to one project; then writers (member role) create work items in it, either
 * at {@code --rate} creates/s each (open loop) or, with {@code --rate 0}, as fast as the service acks them with at
 * most {@code --inflight} outstanding per writer. The first {@code --warmup} creates are sent before the
 * {@code --creates} measured ones and kept out of the figures. Measured: the ack latency (send → {@code work_item_ack});
 * for every subscriber and every create, the time from the create's send to that subscriber receiving the
 * {@code ChangeEvent} whose {@code correlation_id} is the create's {@code message_id}; the throughput of acked creates
 * (first measured send to last measured ack); and whether every subscriber saw {@code seq} rise by exactly 1 per
 * event, with one event per acked create. Exit status: 0 when every check passes, 1 on any violation or failure,
 * 2 on bad usage.
 *
 * <p>Noise on the same node, to show that well-behaved clients do not feel it: {@code --flooders N} connections (of
 * another tenant) send {@code --flood-rate} pings a second each (100 times the default limit), and connect again
 * whenever the server cuts them off; {@code --stalled N} subscribers of the measured project never read, and a fresh
 * one joins every five seconds. The noise runs on a Vert.x of its own, so it does not delay the measuring clients.
 * Its outcomes, and the server's heap after the run, are reported apart. {@code --description-bytes} makes every
 * created item (so every event) that much larger.
 *
 * <pre>LoadGenerator [--host localhost] [--port 8080] [--secret S | --conf conf/dev.json] [--writers 1]
 *   [--subscribers 100] [--creates 2000] [--warmup 200] [--rate 1 | --rate 0 --inflight 16] [--tenant T]
 *   [--project UUID] [--projects 1] [--event-loops 2] [--timeout 60]</pre>
 * {@code --timeout} is how long to wait, after the last create is due, for its acks and then for its events.
 */
public final class LoadGenerator {

  private static final String[][] OPTIONS = {{"host", "localhost"}, {"port", "8080"}, {"secret", ""},
    {"conf", "conf/dev.json"}, {"writers", "1"}, {"subscribers", "100"}, {"creates", "2000"}, {"warmup", "200"},
    {"rate", "40"}, {"inflight", "16"}, {"tenant", ""}, {"project", ""}, {"event-loops", "2"}, {"timeout", "60"},
    {"flooders", "0"}, {"flood-rate", "5000"}, {"stalled", "0"}, {"description-bytes", "0"},
    // Creates spread round robin over this many projects (the first is --project); only without subscribers.
    {"projects", "1"},
    // Subscribers on another node of a cluster (0: the same as --port).
    {"subscriber-port", "0"}};
  private static final int TOKEN_TTL_SECONDS = 24 * 3600;
  private static final int PROBLEMS_SHOWN = 10;

  /** When a create was sent, and whether it counts in the figures. */
  private record Sent(long nanos, boolean measured) {
  }

  private final Map<String, String> opt;
  private final int writers, subscribers, creates, warmup, inflight, timeoutSeconds, eventLoops, flooders, stalled,
    floodRate;
  private final String description;
  private final double rate;
  private final String tenant, project;
  /** Where the creates go, round robin: {@code project} first. */
  private final List<String> projects = new ArrayList<>();
  private final Vertx vertx;
  private final Map<String, Sent> sent = new ConcurrentHashMap<>();
  private final AtomicInteger issued = new AtomicInteger();
  private final AtomicLong phaseStart = new AtomicLong();
  private final Map<String, Integer> errors = new ConcurrentHashMap<>();
  private volatile boolean finishing;

  private LoadGenerator(Map<String, String> opt) {
    this.opt = opt;
    writers = number("writers", 1);
    subscribers = number("subscribers", 0);
    creates = number("creates", 1);
    warmup = number("warmup", 0);
    inflight = number("inflight", 1);
    timeoutSeconds = number("timeout", 1);
    eventLoops = number("event-loops", 1);
    flooders = number("flooders", 0);
    stalled = number("stalled", 0);
    floodRate = number("flood-rate", 1);
    description = "d".repeat(number("description-bytes", 0));
    rate = Double.parseDouble(opt.get("rate"));
    if (rate < 0) {
      throw new IllegalArgumentException("--rate cannot be negative");
    }
    tenant = opt.get("tenant").isEmpty() ? "load-" + UUID.randomUUID().toString().substring(0, 8) : opt.get("tenant");
    project = opt.get("project").isEmpty() ? UUID.randomUUID().toString() : UUID.fromString(opt.get("project")).toString();
    projects.add(project);
    for (int i = 1; i < number("projects", 1); i++) {
      projects.add(UUID.randomUUID().toString());
    }
    if (projects.size() > 1 && (subscribers > 0 || stalled > 0)) {
      throw new IllegalArgumentException("--projects above 1 writes to projects nobody subscribes to: use --subscribers 0");
    }
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(eventLoops));
  }

  public static void main(String[] args) {
    LoadGenerator generator;
    try {
      generator = new LoadGenerator(parse(args));
    } catch (IllegalArgumentException e) {
      StringBuilder usage = new StringBuilder("usage: LoadGenerator");
      for (String[] o : OPTIONS) {
        usage.append(" [--").append(o[0]).append(' ').append(o[1].isEmpty() ? "…" : o[1]).append(']');
      }
      System.err.println("load: " + e.getMessage() + "\n" + usage);
      System.exit(2);
      return;
    }
    int status;
    try {
      status = generator.run();
    } catch (Exception e) {
      System.err.println("load: failed: " + e.getMessage());
      status = 1;
    }
    System.exit(status);
  }

  private int run() throws Exception {
    List<Subscriber> subs = new ArrayList<>();
    List<Writer> ws = new ArrayList<>();
    long total = (long) creates + warmup;
    int acked;
    boolean writersDone, eventsDone;
    try {
      String secret = secret();
      // Everything started from this (non-Vert.x) thread would stick to one event loop: one context per loop
      // (the instances of a no-op deployment) spreads the connections over all of them.
      List<Context> loops = new CopyOnWriteArrayList<>();
      vertx.deployVerticle(() -> (Deployable) context -> {
        loops.add(context);
        return Future.succeededFuture();
      }, new DeploymentOptions().setInstances(eventLoops)).await();
      WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions()
        // The default pool (50 per host) would park every connection beyond the 50th forever.
        .setMaxConnections(subscribers + writers + 1_000));
      String viewer = TokenTool.token(secret, tenant, "load-viewer", new String[]{"viewer"}, TOKEN_TTL_SECONDS);
      for (int i = 0; i < subscribers; i++) {
        subs.add(new Subscriber(i, loops.get(i % eventLoops), client, viewer));
      }
      await(Future.all(subs.stream().map(s -> s.subscribed.future()).toList()), 60, true, "subscribing");
      for (int i = 0; i < writers; i++) {
        String token = TokenTool.token(secret, tenant, "load-writer-" + i, new String[]{"member"}, TOKEN_TTL_SECONDS);
        int quota = (int) (total / writers + (i < total % writers ? 1 : 0));
        ws.add(new Writer(i, quota, loops.get(i % eventLoops), client, token));
      }
      await(Future.all(ws.stream().map(w -> w.connected.future()).toList()), 60, true, "connecting writers");
      Noise noise = new Noise(secret);
      noise.start();
      ws.forEach(w -> w.context.runOnContext(v -> w.start()));
      long sending = rate > 0 ? (long) Math.ceil(total / (double) writers / rate) : 0;
      writersDone = await(Future.join(ws.stream().map(w -> w.done.future()).toList()), sending + timeoutSeconds, false,
        "waiting for acks");
      int expected = acked = ws.stream().mapToInt(w -> w.acked).sum();
      eventsDone = await(Future.join(subs.stream().map(s -> s.expect(expected)).toList()), timeoutSeconds, false,
        "waiting for events");
      noiseReport = noise.stop();
      serverHeap = serverHeapMb();
    } finally {
      finishing = true;
      vertx.close().await();
    }
    return report(subs, ws, acked, writersDone, eventsDone);
  }

  private String noiseReport = "";
  private String serverHeap = "";

  /** The flooders and stalled subscribers, on a Vert.x of their own; confined to its one event loop. */
  private final class Noise {
    final Vertx noiseVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    final Context context = noiseVertx.getOrCreateContext();
    final WebSocketClient client = noiseVertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(1_000));
    // A stalled subscriber advertises a small window, as a hostile or hopelessly slow client can.
    final WebSocketClient stalledClient = noiseVertx.createWebSocketClient(new WebSocketClientOptions()
      .setMaxConnections(1_000).setReceiveBufferSize(4 * 1024));
    final String flooderToken, stalledToken;
    final List<WebSocket> stalledSockets = new ArrayList<>();
    final Map<String, Integer> stalledEndings = new TreeMap<>();
    long pings, rateLimited, flooderCloses, stalledOpened, timer = -1;
    boolean stopped;

    Noise(String secret) {
      this.flooderToken = TokenTool.token(secret, "noisy-" + UUID.randomUUID(), "flooder", new String[]{"member"},
        TOKEN_TTL_SECONDS);
      this.stalledToken = TokenTool.token(secret, tenant, "stalled", new String[]{"viewer"}, TOKEN_TTL_SECONDS);
    }

    void start() {
      context.runOnContext(v -> {
        for (int i = 0; i < flooders; i++) {
          flood();
        }
        if (stalled > 0) {
          for (int i = 0; i < stalled; i++) {
            stall();
          }
          timer = noiseVertx.setPeriodic(5_000, id -> stall());
        }
      });
    }

    private void flood() {
      if (stopped) {
        return;
      }
      client.connect(connectOptions(flooderToken))
        .onFailure(err -> noiseVertx.setTimer(100, t -> flood()))
        .onSuccess(ws -> {
          Buffer ping = Buffer.buffer(ClientMessage.newBuilder().setPing(io.workstream.protocol.v1.Ping.newBuilder())
            .build().toByteArray());
          ws.binaryMessageHandler(frame -> {
            ServerMessage message = parse(frame);
            if (message != null && message.hasError() && message.getError().getCode().equals("RATE_LIMITED")) {
              rateLimited++;
            }
          });
          // floodRate pings a second, in bursts every 10 ms, for as long as the connection lasts.
          long ticker = noiseVertx.setPeriodic(10, id -> {
            for (int i = 0; i < Math.max(1, floodRate / 100) && !ws.writeQueueFull(); i++) {
              ws.writeBinaryMessage(ping);
              pings++;
            }
          });
          ws.closeHandler(closed -> {
            noiseVertx.cancelTimer(ticker);
            flooderCloses++;
            flood();
          });
        });
    }

    /** A subscriber that never reads: subscribes, then stops taking anything from its socket. */
    private void stall() {
      if (stopped) {
        return;
      }
      stalledOpened++;
      stalledClient.connect(connectOptions(stalledToken)).onSuccess(ws -> {
        stalledSockets.add(ws);
        ws.closeHandler(closed -> stalledEndings.merge(String.valueOf(ws.closeStatusCode()), 1, Integer::sum));
        ws.writeBinaryMessage(Buffer.buffer(ClientMessage.newBuilder().setMessageId(UUID.randomUUID().toString())
          .setSubscribe(Subscribe.newBuilder().addProjects(ProjectCursor.newBuilder().setProjectId(project)))
          .build().toByteArray()));
        ws.pause();
      });
    }

    /** Stops making noise; the stalled ones read again, to learn how the server ended each of them. */
    String stop() {
      Promise<Void> read = Promise.promise();
      context.runOnContext(v -> {
        stopped = true;
        noiseVertx.cancelTimer(timer);
        stalledSockets.forEach(WebSocket::resume);
        noiseVertx.setTimer(3_000, t -> read.complete());
      });
      read.future().await();
      Promise<String> text = Promise.promise();
      context.runOnContext(v -> text.complete(flooders + stalled == 0 ? "" : String.format(
        "  noise       flooders=%d at %d/s: %d pings sent, %d RATE_LIMITED, cut off %d times; stalled=%d: %d opened, "
          + "closed by the server: %s%n", flooders, floodRate, pings, rateLimited, flooderCloses, stalled,
        stalledOpened, stalledEndings.isEmpty() ? "none" : stalledEndings)));
      String report = text.future().await();
      noiseVertx.close().await();
      return report;
    }
  }

  /**
   * The service's heap after the run, from its own metrics. With the JDK's HTTP client: Vert.x's, used from outside
   * its threads, can lose a response's end (vert.x#6038, fixed after 5.0.7).
   */
  private String serverHeapMb() {
    try {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      String metrics = http.send(HttpRequest.newBuilder(URI.create("http://" + opt.get("host") + ":" + opt.get("port")
        + "/metrics")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
      double used = metrics.lines()
        .filter(l -> l.startsWith("jvm_memory_used_bytes{area=\"heap\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
      return String.format("  server      heap used %.0f MB after the run%n", used / 1024 / 1024);
    } catch (Exception e) {
      return "";
    }
  }

  /** Runs after Vert.x has closed, so every connection's samples and checks are final and visible here. */
  private int report(List<Subscriber> subs, List<Writer> ws, int acked, boolean writersDone, boolean eventsDone) {
    Histogram ack = new Histogram(3), event = new Histogram(3);
    List<String> problems = new ArrayList<>();
    int count = 0, failing = 0;
    for (Writer w : ws) {
      ack.add(w.latency);
      if (w.answered < w.quota) {
        count++;
        problems.add("writer " + w.number + ": " + (w.quota - w.answered) + " of " + w.quota + " creates unanswered"
          + (writersDone ? "" : " when it gave up"));
      }
    }
    for (Map.Entry<String, Integer> error : new TreeMap<>(errors).entrySet()) {
      count += error.getValue();
      problems.add("create answered with " + error.getKey() + " ×" + error.getValue());
    }
    for (Subscriber s : subs) {
      if (s.received != acked) {
        s.problem("saw " + s.received + " events, expected " + acked + (eventsDone ? "" : " when it gave up"));
      }
      event.add(s.latency);
      if (s.problemCount > 0) {
        count += s.problemCount;
        failing++;
        problems.add("subscriber " + s.number + ": " + s.problemCount + " violations, the first: " + s.firstProblem);
      }
    }
    long end = ws.stream().mapToLong(w -> w.lastMeasuredAck).max().orElse(0);
    double seconds = Math.max(0, (end - phaseStart.get()) / 1e9);
    StringBuilder out = new StringBuilder();
    out.append(String.format("Workstream load  %s:%s tenant=%s project=%s%s%n", opt.get("host"), opt.get("port"), tenant,
      project, projects.size() > 1 ? " (and " + (projects.size() - 1) + " more)" : ""));
    out.append(String.format("  params      writers=%d subscribers=%d creates=%d warmup=%d %s event-loops=%s%n", writers,
      subscribers, creates, warmup, rate > 0 ? "rate=" + opt.get("rate") + "/s per writer (open loop)"
        : "rate=max inflight=" + inflight + " per writer", opt.get("event-loops")));
    out.append(String.format("  throughput  %.2f creates/s (%d measured creates acked in %.2f s)%n",
      seconds > 0 ? ack.getTotalCount() / seconds : 0.0, ack.getTotalCount(), seconds));
    out.append(percentiles("ack", ack)).append(percentiles("event", event));
    out.append(noiseReport).append(serverHeap);
    out.append(String.format("  delivery    %d subscribers × %d events, seq +1 each, none missing: %s%n", subscribers,
      acked, failing == 0 ? "OK" : failing + " subscribers with violations"));
    problems.stream().limit(PROBLEMS_SHOWN).forEach(p -> out.append("  violation   ").append(p).append('\n'));
    if (problems.size() > PROBLEMS_SHOWN) {
      out.append("  violation   … ").append(problems.size() - PROBLEMS_SHOWN).append(" more lines\n");
    }
    if (errors.containsKey("RATE_LIMITED")) {
      out.append("  hint        the service limits each connection (gateway.rateLimit, maxInFlight in the conf): spread"
        + " the load over more --writers at a --rate under it\n");
    }
    out.append(count == 0 ? "  result      PASS\n" : "  result      FAIL (" + count + " violations)\n");
    System.out.print(out);
    return count == 0 ? 0 : 1;
  }

  private static String percentiles(String name, Histogram h) {
    StringBuilder line = new StringBuilder(String.format("  %-11s n=%-8d", name + " ms", h.getTotalCount()));
    for (double p : new double[]{50, 90, 99, 99.9}) {
      line.append(String.format(" p%s=%.2f", p == 99.9 ? "999" : (int) p, h.getValueAtPercentile(p) / 1000.0));
    }
    return line.append(String.format(" max=%.2f%n", h.getMaxValue() / 1000.0)).toString();
  }

  /** A connection that sends creates; confined to its event loop. */
  private final class Writer {
    final int number, quota;
    final Context context;
    final Promise<Void> connected = Promise.promise(), done = Promise.promise();
    final Histogram latency = new Histogram(3);
    WebSocket ws;
    int sentCount, answered, acked;
    long lastMeasuredAck;

    Writer(int number, int quota, Context context, WebSocketClient client, String token) {
      this.number = number;
      this.quota = quota;
      this.context = context;
      context.runOnContext(v -> client.connect(connectOptions(token)).onFailure(connected::tryFail).onSuccess(socket -> {
        ws = socket;
        socket.binaryMessageHandler(this::onFrame);
        socket.closeHandler(closed -> done.tryFail("writer " + number + ": " + closedBy(socket)));
        connected.tryComplete();
      }));
    }

    void start() {
      if (quota == 0) {
        done.tryComplete();
      } else if (rate == 0) {
        for (int i = 0; i < inflight; i++) {
          send();
        }
      } else {
        long started = System.nanoTime();
        // Each tick sends whatever is due by now, so the schedule holds at any rate and never drifts.
        vertx.setPeriodic(Math.max(1, Math.min(100, Math.round(1000 / rate))), id -> {
          long due = Math.min(quota, (long) ((System.nanoTime() - started) / 1e9 * rate) + 1);
          while (sentCount < due) {
            send();
          }
          if (sentCount == quota) {
            vertx.cancelTimer(id);
          }
        });
      }
    }

    private void send() {
      if (sentCount == quota) {
        return;
      }
      sentCount++;
      int index = issued.getAndIncrement();
      String id = UUID.randomUUID().toString();
      byte[] frame = ClientMessage.newBuilder().setMessageId(id).setCreateWorkItem(CreateWorkItem.newBuilder()
        .setProjectId(projects.get(index % projects.size())).setType(WorkItemType.TASK).setTitle("load " + index)
        .setDescription(description))
        .build().toByteArray();
      long now = System.nanoTime();
      if (index == warmup) {
        phaseStart.set(now);
      }
      sent.put(id, new Sent(now, index >= warmup));
      ws.writeBinaryMessage(Buffer.buffer(frame));
    }

    private void onFrame(Buffer frame) {
      long now = System.nanoTime();
      ServerMessage message = parse(frame);
      Sent request = message == null ? null : sent.get(message.getMessageId());
      // An error without a message_id (the per-connection rate limit answers before decoding) still answers one
      // of this writer's creates, which one is unknown.
      boolean anonymousError = message != null && message.hasError() && message.getMessageId().isEmpty();
      if (request == null && !anonymousError) {
        errors.merge("an unexpected " + (message == null ? "frame" : message.getPayloadCase()), 1, Integer::sum);
        return;
      }
      answered++;
      long retryAfterMs = 0;
      if (message.hasWorkItemAck()) {
        acked++;
        if (request.measured()) {
          latency.recordValue((now - request.nanos()) / 1_000);
          lastMeasuredAck = now;
        }
      } else {
        errors.merge(message.hasError() ? message.getError().getCode() : message.getPayloadCase().name(), 1, Integer::sum);
        retryAfterMs = message.getError().getRetryAfterMs();
      }
      if (rate == 0 && retryAfterMs > 0) {
        vertx.setTimer(retryAfterMs, t -> send());
      } else if (rate == 0) {
        send();
      }
      if (answered == quota) {
        done.tryComplete();
      }
    }
  }

  /** A connection subscribed to the project; confined to its event loop. */
  private final class Subscriber {
    final int number;
    final String subscribeId = UUID.randomUUID().toString();
    final Promise<Void> subscribed = Promise.promise();
    final Histogram latency = new Histogram(3);
    final Context context;
    String firstProblem;
    Promise<Void> complete;
    long lastSeq;
    int expected, received, problemCount;

    Subscriber(int number, Context context, WebSocketClient client, String token) {
      this.number = number;
      this.context = context;
      context.runOnContext(v -> client.connect(connectOptions(token).setPort(subscriberPort()))
        .onFailure(subscribed::tryFail).onSuccess(ws -> {
        ws.binaryMessageHandler(this::onFrame);
        ws.closeHandler(closed -> {
          if (!finishing) {
            problem(closedBy(ws));
          }
        });
        ws.writeBinaryMessage(Buffer.buffer(ClientMessage.newBuilder().setMessageId(subscribeId)
          .setSubscribe(Subscribe.newBuilder().addProjects(ProjectCursor.newBuilder().setProjectId(project)))
          .build().toByteArray()));
      }));
    }

    /** Completes once {@code count} events have arrived. */
    Future<Void> expect(int count) {
      Promise<Void> promise = Promise.promise();
      context.runOnContext(v -> {
        expected = count;
        complete = promise;
        checkComplete();
      });
      return promise.future();
    }

    private void onFrame(Buffer frame) {
      long now = System.nanoTime();
      ServerMessage message = parse(frame);
      if (message == null) {
        problem("a frame that is not a ServerMessage");
      } else if (message.hasChangeEvent()) {
        ChangeEvent event = message.getChangeEvent();
        if (event.getSeq() != lastSeq + 1) {
          problem("seq " + event.getSeq() + " after " + lastSeq);
        }
        lastSeq = event.getSeq();
        Sent create = sent.get(event.getCorrelationId());
        if (create == null) {
          problem("seq " + event.getSeq() + " has an unknown correlation_id '" + event.getCorrelationId() + "'");
        } else if (create.measured()) {
          latency.recordValue((now - create.nanos()) / 1_000);
        }
        received++;
        checkComplete();
      } else if (message.hasSubscribeAck() && subscribeId.equals(message.getMessageId())) {
        lastSeq = message.getSubscribeAck().getProjects(0).getCurrentSeq();
        subscribed.tryComplete();
      } else if (message.hasError() && subscribeId.equals(message.getMessageId())) {
        subscribed.tryFail("subscribe failed: " + message.getError().getCode() + " " + message.getError().getMessage());
      } else {
        problem("unexpected " + message.getPayloadCase() + ": " + message.toString().replace('\n', ' '));
      }
    }

    private void checkComplete() {
      if (complete != null && received >= expected) {
        complete.tryComplete();
      }
    }

    void problem(String text) {
      if (problemCount++ == 0) {
        firstProblem = text;
      }
    }
  }

  private static String closedBy(WebSocket ws) {
    return "the connection closed" + (ws.closeStatusCode() == null ? ""
      : " (" + ws.closeStatusCode() + (ws.closeReason() == null ? "" : " " + ws.closeReason()) + ")");
  }

  private int subscriberPort() {
    int port = Integer.parseInt(opt.get("subscriber-port"));
    return port > 0 ? port : Integer.parseInt(opt.get("port"));
  }

  private WebSocketConnectOptions connectOptions(String token) {
    return new WebSocketConnectOptions().setHost(opt.get("host")).setPort(Integer.parseInt(opt.get("port")))
      .setURI("/ws").addHeader("Authorization", "Bearer " + token);
  }

  private String secret() throws Exception {
    if (!opt.get("secret").isEmpty()) {
      return opt.get("secret");
    }
    JsonObject config = Environment.apply(new JsonObject(Files.readString(Path.of(opt.get("conf")))), System.getenv());
    return Json.section(config, "auth").getString("secret");
  }

  /** Waits for {@code future}; a failure or timeout throws when {@code required}, else is printed and returns false. */
  private static boolean await(Future<?> future, long seconds, boolean required, String what) {
    try {
      future.timeout(seconds, TimeUnit.SECONDS).await();
      return true;
    } catch (Exception e) {
      if (required) {
        throw new IllegalStateException(what + ": " + e.getMessage(), e);
      }
      System.err.println("load: " + what + ": " + e.getMessage());
      return false;
    }
  }

  private static ServerMessage parse(Buffer frame) {
    try {
      return ServerMessage.parseFrom(frame.getBytes());
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  private int number(String name, int min) {
    int value = Integer.parseInt(opt.get(name));
    if (value < min) {
      throw new IllegalArgumentException("--" + name + " must be at least " + min);
    }
    return value;
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> options = new LinkedHashMap<>();
    for (String[] o : OPTIONS) {
      options.put(o[0], o[1]);
    }
    for (int i = 0; i < args.length; i += 2) {
      String name = args[i].startsWith("--") ? args[i].substring(2) : "";
      if (!options.containsKey(name)) {
        throw new IllegalArgumentException("unknown option " + args[i]);
      }
      if (i + 1 == args.length) {
        throw new IllegalArgumentException(args[i] + " needs a value");
      }
      options.put(name, args[i + 1]);
    }
    return options;
  }
}
