package io.workstream;

import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.CreateWorkItem;
import io.workstream.protocol.v1.GetWorkItems;
import io.workstream.protocol.v1.ProjectCursor;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.Subscribe;
import io.workstream.protocol.v1.SubscribeAck;
import io.workstream.protocol.v1.SubscriptionState;
import io.workstream.protocol.v1.WorkItem;
import io.workstream.protocol.v1.WorkItemList;
import io.workstream.protocol.v1.WorkItemType;
import io.workstream.testing.RawWebSocket;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.workstream.CircuitBreakerTest.eventually;
import static io.workstream.testing.Messages.newId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the server holds for one connection is bounded by its budget whatever the client asks for and however little
 * it reads; large replies come in pages bounded by bytes; one Subscribe reads the history of all its projects at once.
 */
class ConnectionMemoryTest {

  static final int BUDGET = 2 * 1024 * 1024;
  static final int SOCKET_WRITE_QUEUE = 256 * 1024;
  static final int LIST_PAGE_BYTES = 256 * 1024;
  static final int DESCRIPTION = 19_000;
  static final int BIG_ITEMS = 1_000;
  static final int OTHER_PROJECTS = 19;
  static final int OTHER_ITEMS = 50;

  static TestService service;
  static String tenant;
  static String big;
  static List<String> others = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    config.getJsonObject("gateway")
      .put("maxInFlight", 1_000)
      .put("rateLimit", new JsonObject().put("messagesPerSecond", 100_000).put("burst", 100_000))
      .put("outbound", new JsonObject().put("socketSendBufferBytes", 8 * 1024).put("slowClientTimeoutMs", 3_000));
    // No periodic current-seq checks: what the tests count is what Subscribe reads.
    config.put("broadcast", new JsonObject().put("repairIntervalMs", 3_600_000));
    service = TestService.start(config);
    tenant = newId();
    big = newId();
    try (WsClient writer = bigClient(service.token(tenant, "writer", "member"))) {
      create(writer, big, BIG_ITEMS);
      for (int i = 0; i < OTHER_PROJECTS; i++) {
        String project = newId();
        others.add(project);
        create(writer, project, OTHER_ITEMS);
      }
    }
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @Test
  void getWorkItemsPagesByBytesAndReturnsEveryItemOnce() {
    try (WsClient reader = bigClient(service.token(tenant, "reader-" + newId(), "viewer"))) {
      Set<String> seen = new HashSet<>();
      int pages = 0;
      String token = "";
      do {
        ServerMessage reply = reader.request(ClientMessage.newBuilder().setGetWorkItems(GetWorkItems.newBuilder()
          .setProjectId(big).setLimit(1_000).setPageToken(token)));
        assertTrue(reply.hasWorkItemList(), reply::toString);
        assertTrue(reply.getSerializedSize() <= LIST_PAGE_BYTES, "a page of " + reply.getSerializedSize() + " bytes");
        WorkItemList list = reply.getWorkItemList();
        assertFalse(list.getItemsList().isEmpty(), "every page holds at least one item");
        for (WorkItem item : list.getItemsList()) {
          assertTrue(seen.add(item.getId()), "item " + item.getId() + " came twice");
        }
        token = list.getNextPageToken();
        pages++;
      } while (!token.isEmpty());
      assertEquals(BIG_ITEMS, seen.size());
      assertTrue(pages >= BIG_ITEMS * (DESCRIPTION + 100L) / LIST_PAGE_BYTES, pages + " pages");
    }
  }

  @Test
  void oneSubscribeOfManyProjectsReadsTheirHistoryOnceAndTheirCurrentSeqsOnce() throws Exception {
    List<String> projects = new ArrayList<>();
    try (WsClient writer = service.connect(tenant, "member")) {
      for (int i = 0; i < 50; i++) {
        String project = newId();
        projects.add(project);
        assertTrue(writer.request(ClientMessage.newBuilder().setCreateWorkItem(CreateWorkItem.newBuilder()
          .setProjectId(project).setType(WorkItemType.TASK).setTitle("one"))).hasWorkItemAck());
      }
    }
    AtomicInteger historyReads = new AtomicInteger();
    AtomicInteger currentSeqReads = new AtomicInteger();
    io.vertx.core.Handler<DeliveryContext<Object>> counter = delivery -> {
      String address = delivery.message().address();
      if (address.equals("workstream.history") || address.equals("workstream.histories")) {
        historyReads.incrementAndGet();
      } else if (address.equals("workstream.current-seqs")) {
        currentSeqReads.incrementAndGet();
      }
      delivery.next();
    };
    service.vertx.eventBus().addInboundInterceptor(counter);
    try (WsClient subscriber = service.connect(tenant, "viewer")) {
      Subscribe.Builder subscribe = Subscribe.newBuilder();
      projects.forEach(p -> subscribe.addProjects(ProjectCursor.newBuilder().setProjectId(p).setAfterSeq(0)));
      SubscribeAck ack = subscriber.request(ClientMessage.newBuilder().setSubscribe(subscribe)).getSubscribeAck();
      assertEquals(50, ack.getProjectsCount());
      for (SubscriptionState state : ack.getProjectsList()) {
        assertTrue(state.getRecovered());
        assertEquals(1, state.getReplayed());
      }
      Set<String> replayed = new HashSet<>();
      for (ChangeEvent event : subscriber.events(50)) {
        assertEquals(1, event.getSeq());
        replayed.add(event.getProjectId());
      }
      assertEquals(new HashSet<>(projects), replayed);
      assertEquals(1, historyReads.get(), "history reads");
      assertEquals(1, currentSeqReads.get(), "current-seq reads");
    } finally {
      service.vertx.eventBus().removeInboundInterceptor(counter);
    }
  }

  /**
   * Clients that never read subscribe to a hundred projects from seq 0 (twenty of them with megabytes of history)
   * and ask for many large pages: what the server holds for them stays within their budget, the JVM's heap does not
   * grow by their history, and each is closed as a slow client.
   */
  @Test
  void clientsThatReadNothingAreHeldToTheirBudgetAndClosedAsSlow() throws Exception {
    int clients = 8;
    long heapBefore = heapAfterGc();
    double subscribedBefore = metric("workstream_requests_total{code=\"OK\",operation=\"subscribe\"");
    double slowBefore = metric("workstream_connections_closed_total{reason=\"slow-client\"");
    List<RawWebSocket> stalled = new ArrayList<>();
    try {
      for (int c = 0; c < clients; c++) {
        RawWebSocket ws = RawWebSocket.connect(service.port, service.token(tenant, "stalled-" + c, "viewer"));
        assertEquals(101, ws.status);
        stalled.add(ws);
        Subscribe.Builder subscribe = Subscribe.newBuilder()
          .addProjects(ProjectCursor.newBuilder().setProjectId(big).setAfterSeq(0));
        others.forEach(p -> subscribe.addProjects(ProjectCursor.newBuilder().setProjectId(p).setAfterSeq(0)));
        while (subscribe.getProjectsCount() < 100) {
          subscribe.addProjects(ProjectCursor.newBuilder().setProjectId(newId()).setAfterSeq(0));
        }
        ws.sendFrame(2, ClientMessage.newBuilder().setMessageId(newId()).setSubscribe(subscribe).build().toByteArray());
      }
      eventually(() -> metric("workstream_requests_total{code=\"OK\",operation=\"subscribe\"")
        >= subscribedBefore + clients, 20_000);
      long bound = (long) clients * (BUDGET + SOCKET_WRITE_QUEUE + LIST_PAGE_BYTES) + 16L * 1024 * 1024;
      long heapSubscribed = heapAfterGc() - heapBefore;
      assertTrue(heapSubscribed < bound, "heap grew by " + heapSubscribed + " bytes (bound " + bound + ")");
      // The replays run until the sockets are full; then a page of history stays in hand.
      eventually(() -> held() > 0, 20_000);
      double heldAfterSubscribe = held();
      assertTrue(heldAfterSubscribe <= (double) clients * BUDGET, "held " + heldAfterSubscribe);

      for (RawWebSocket ws : stalled) {
        for (int i = 0; i < 20; i++) {
          ws.sendFrame(2, ClientMessage.newBuilder().setMessageId(newId()).setGetWorkItems(GetWorkItems.newBuilder()
            .setProjectId(big).setLimit(1_000)).build().toByteArray());
        }
      }
      long sampleUntil = System.currentTimeMillis() + 1_500;
      double heldMost = 0;
      while (System.currentTimeMillis() < sampleUntil) {
        heldMost = Math.max(heldMost, held());
        TimeUnit.MILLISECONDS.sleep(50);
      }
      assertTrue(heldMost <= (double) clients * BUDGET, "held " + heldMost);
      long heapAsked = heapAfterGc() - heapBefore;
      System.out.printf("non-reading clients: %d; held after subscribe %.0f B, most held while asking %.0f B; "
        + "heap growth after GC %d B subscribed, %d B with pages asked (bound %d B)%n", clients, heldAfterSubscribe,
        heldMost, heapSubscribed, heapAsked, bound);
      assertTrue(heapAsked < bound, "heap grew by " + heapAsked + " bytes (bound " + bound + ")");

      // Closed as slow while they still read nothing (reading them now would make them clients that read).
      eventually(() -> metric("workstream_connections_closed_total{reason=\"slow-client\"") >= slowBefore + clients,
        30_000);
      for (RawWebSocket ws : stalled) {
        assertEquals(1013, ws.awaitCloseCode());
      }
      eventually(() -> held() == 0, 10_000);
    } finally {
      stalled.forEach(RawWebSocket::close);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------

  /** A client that takes replies of any size, so that the size of each page is the server's doing. */
  static WsClient bigClient(String token) {
    return WsClient.connect(service.clients, new WebSocketClientOptions().setMaxMessageSize(8 * 1024 * 1024),
      new WebSocketConnectOptions().setHost("127.0.0.1").setPort(service.port).setURI("/ws")
        .addHeader("Authorization", "Bearer " + token));
  }

  /**
   * {@code count} items of about 19 KB (incompressible text), 16 at a time; a create the node sheds or rate-limits is
   * resent (same message id) after the retry_after_ms it was given.
   */
  static void create(WsClient writer, String project, int count) throws Exception {
    Random random = new Random(project.hashCode());
    ArrayDeque<ClientMessage> todo = new ArrayDeque<>();
    for (int i = 0; i < count; i++) {
      StringBuilder description = new StringBuilder(DESCRIPTION);
      for (int c = 0; c < DESCRIPTION; c++) {
        description.append((char) ('a' + random.nextInt(26)));
      }
      todo.add(ClientMessage.newBuilder().setMessageId(newId()).setCreateWorkItem(CreateWorkItem.newBuilder()
        .setProjectId(project).setType(WorkItemType.TASK).setTitle("item " + i)
        .setDescription(description.toString())).build());
    }
    Map<ClientMessage, CompletableFuture<ServerMessage>> inFlight = new LinkedHashMap<>();
    while (!todo.isEmpty() || !inFlight.isEmpty()) {
      while (inFlight.size() < 16 && !todo.isEmpty()) {
        ClientMessage request = todo.poll();
        inFlight.put(request, writer.sendAsync(request));
      }
      Map.Entry<ClientMessage, CompletableFuture<ServerMessage>> oldest = inFlight.entrySet().iterator().next();
      ServerMessage reply = oldest.getValue().get(60, TimeUnit.SECONDS);
      inFlight.remove(oldest.getKey());
      if (reply.hasError() && Set.of("RATE_LIMITED", "SERVICE_UNAVAILABLE").contains(reply.getError().getCode())) {
        TimeUnit.MILLISECONDS.sleep(reply.getError().getRetryAfterMs());
        todo.addFirst(oldest.getKey());
      } else {
        assertTrue(reply.hasWorkItemAck(), reply::toString);
      }
    }
  }

  /** Bytes held for all connections of the node (its gateway instances' gauges). */
  static double held() {
    return service.get("/metrics").body().lines()
      .filter(l -> l.startsWith("workstream_connections_held_bytes{"))
      .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
      .reduce(Double.NaN, (a, b) -> Double.isNaN(a) ? b : a + b);
  }

  static double metric(String prefix) {
    return service.get("/metrics").body().lines()
      .filter(l -> l.startsWith(prefix))
      .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  static long heapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      TimeUnit.MILLISECONDS.sleep(100);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
