package io.workstream.gateway;

import com.google.protobuf.InvalidProtocolBufferException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.internal.ContextInternal;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.CreateWorkItem;
import io.workstream.protocol.v1.ProjectCursor;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.Subscribe;
import io.workstream.protocol.v1.WorkItemType;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Drives a fresh gateway instance the way its busiest clients will, before it listens for them: subscribers of one
 * project and a writer creating work items in it, over real loopback WebSockets to the instance's private warm-up
 * listener, through the handlers, PostgreSQL and the broadcast and back out to every subscriber. The JIT compiles the
 * hot paths while nobody waits on them, so the first clients get the node's full speed rather than an interpreter's.
 * Subscribers come and go as they do in real use ({@link GatewayConfig.Warmup#churn}): code compiled without ever
 * seeing a socket close would be thrown away at the first one (the end of the warm-up, say) and compiled again while
 * clients wait. It runs until the JIT has settled (compile time grows by less than
 * {@code settledCompileMsPerSecond}) after at least {@code minCreates} creates and one subscriber replaced, or for
 * {@code maxMs} at most.
 */
final class Warmup {

  /** What a warm-up did, for the log. */
  record Outcome(long replaced, long creates, long refused, long deliveries, long elapsedMs, long compileMs) {
  }

  /** Carries the warm-up listener's ticket. */
  static final String TICKET_HEADER = "Workstream-Warmup-Ticket";
  /** The node's own connections are not throttled. */
  static final GatewayConfig.RateLimit RATE = new GatewayConfig.RateLimit(1_000_000, 1_000_000, 1_000_000, 10_000, 4,
    1_000_000, 1_000_000);
  private static final long CHECK_MS = 500;
  private static final long MIN_RETRY_MS = 100;
  /**
   * Descriptions of 0 to this many characters, not one size: events of many sizes (JFR showed the frame writer
   * deoptimized on its header-size branch at the first clients' events when every warm-up event had one size).
   */
  private static final int MAX_DESCRIPTION = 400;
  private static final String DESCRIPTION = "w".repeat(MAX_DESCRIPTION);

  private final Vertx vertx;
  private final GatewayConfig.Warmup settings;
  private final WebSocketConnectOptions target;
  private final String project = UUID.randomUUID().toString();
  private final CompilationMXBean compiler = ManagementFactory.getCompilationMXBean();
  /**
   * Bound to the context that made the warm-up, so what follows it runs there too: the client's close completes on
   * Vert.x's acceptor thread, and a next round or the gateway's listen started from there would bind its sockets and
   * timers to contexts of their own.
   */
  private final Promise<Outcome> done;
  private final ArrayDeque<WebSocket> subscribers = new ArrayDeque<>();
  private final Set<WebSocket> leaving = new HashSet<>();
  private WebSocketClient client;
  private WebSocket writer;
  private long started, replaced, creates, refused, deliveries, lastCompileMs, compileMsAtStart;
  private int outstanding;
  private long checkTimer = -1;
  private boolean stopping;

  Warmup(Vertx vertx, GatewayConfig.Warmup settings, WebSocketConnectOptions target) {
    this.vertx = vertx;
    this.settings = settings;
    this.target = target;
    this.done = ((ContextInternal) vertx.getOrCreateContext()).promise();
  }

  Future<Outcome> run() {
    started = System.nanoTime();
    compileMsAtStart = compileMs();
    client = vertx.createWebSocketClient(new WebSocketClientOptions()
      .setMaxConnections(settings.subscribers() + settings.churn() + 1));
    List<Future<Void>> subscribed = new ArrayList<>();
    for (int i = 0; i < settings.subscribers(); i++) {
      subscribed.add(subscriber());
    }
    Future.all(subscribed)
      .compose(v -> client.connect(target))
      .onSuccess(socket -> {
        writer = socket;
        watch(socket, "writer");
        socket.binaryMessageHandler(this::onAnswer);
        for (int i = 0; i < settings.inFlight(); i++) {
          create();
        }
        lastCompileMs = compileMs();
        checkTimer = vertx.setPeriodic(CHECK_MS, this::check);
      })
      .onFailure(done::tryFail);
    return done.future()
      .andThen(ended -> {
        // However it ended (a failure, say): nothing more is sent or replaced.
        stopping = true;
        vertx.cancelTimer(checkTimer);
      })
      .eventually(() -> client.close());
  }

  private Future<Void> subscriber() {
    String subscribeId = UUID.randomUUID().toString();
    Promise<Void> acked = Promise.promise();
    client.connect(target).onFailure(acked::tryFail).onSuccess(socket -> {
      watch(socket, "subscriber");
      subscribers.add(socket);
      socket.binaryMessageHandler(frame -> {
        deliveries++;
        if (!acked.future().isComplete()) {
          ServerMessage message = parse(frame);
          if (message != null && message.hasSubscribeAck()) {
            acked.tryComplete();
          } else if (message != null && message.hasError()) {
            acked.tryFail(message.getError().getCode() + ": " + message.getError().getMessage());
          }
        }
      });
      socket.writeBinaryMessage(Buffer.buffer(ClientMessage.newBuilder().setMessageId(subscribeId)
        .setSubscribe(Subscribe.newBuilder().addProjects(ProjectCursor.newBuilder().setProjectId(project)))
        .build().toByteArray()));
    });
    return acked.future();
  }

  /** A socket the server closes on the warm-up is a failure of the warm-up (a limit, a refusal). */
  private void watch(WebSocket socket, String role) {
    socket.closeHandler(v -> {
      if (!leaving.remove(socket)) {
        done.tryFail("the warm-up's " + role + " was closed by the server (" + socket.closeStatusCode() + " "
          + socket.closeReason() + ")");
      }
    });
  }

  private void replaceSubscribers() {
    for (int i = 0; i < settings.churn() && !subscribers.isEmpty(); i++) {
      WebSocket old = subscribers.poll();
      leaving.add(old);
      replaced++;
      old.close().onComplete(v -> {
        if (!stopping) {
          subscriber().onFailure(done::tryFail);
        }
      });
    }
  }

  private void create() {
    if (stopping) {
      return;
    }
    outstanding++;
    writer.writeBinaryMessage(Buffer.buffer(ClientMessage.newBuilder().setMessageId(UUID.randomUUID().toString())
      .setCreateWorkItem(CreateWorkItem.newBuilder().setProjectId(project).setType(WorkItemType.TASK)
        .setTitle("warm-up " + creates)
        .setDescription(DESCRIPTION.substring(ThreadLocalRandom.current().nextInt(MAX_DESCRIPTION + 1))))
      .build().toByteArray()));
  }

  private void onAnswer(Buffer frame) {
    ServerMessage answer = parse(frame);
    if (answer == null || !(answer.hasWorkItemAck() || answer.hasError())) {
      return;
    }
    outstanding--;
    if (answer.hasWorkItemAck()) {
      creates++;
      create();
    } else {
      // Shed or throttled like any client: follow the advice (at least a moment, when there is none).
      refused++;
      vertx.setTimer(Math.max(MIN_RETRY_MS, answer.getError().getRetryAfterMs()), t -> create());
    }
    if (stopping && outstanding == 0) {
      finish();
    }
  }

  private void check(long timerId) {
    long now = compileMs();
    long compiledPerSecond = (now - lastCompileMs) * 1000 / CHECK_MS;
    lastCompileMs = now;
    long elapsedMs = (System.nanoTime() - started) / 1_000_000;
    // At least one subscriber came and went, however soon the JIT settles (a later round may settle at once).
    boolean settled = replaced > 0 && creates >= settings.minCreates()
      && compiledPerSecond < settings.settledCompileMsPerSecond();
    if (!settled && elapsedMs < settings.maxMs()) {
      replaceSubscribers();
    } else {
      vertx.cancelTimer(timerId);
      stopping = true;
      if (outstanding == 0) {
        finish();
      } else {
        vertx.setTimer(settings.maxMs(), t -> finish());
      }
    }
  }

  private void finish() {
    if (creates == 0) {
      done.tryFail("no create was acknowledged in " + settings.maxMs() + " ms");
    } else {
      done.tryComplete(outcome());
    }
  }

  private Outcome outcome() {
    return new Outcome(replaced, creates, refused, deliveries,
      (System.nanoTime() - started) / 1_000_000, compileMs() - compileMsAtStart);
  }

  private long compileMs() {
    return compiler != null && compiler.isCompilationTimeMonitoringSupported() ? compiler.getTotalCompilationTime() : 0;
  }

  private static ServerMessage parse(Buffer frame) {
    try {
      return ServerMessage.parseFrom(frame.getBytes());
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }
}
