package io.workstream.cluster;

import io.vertx.core.VertxOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SelfSignedCertificate;
import io.workstream.bus.Node;
import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.Ping;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.testing.InJvmCluster;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static io.workstream.testing.Messages.subscribeAfter;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Edge and core units on separate clustered nodes (Hazelcast members in this JVM): changes cross the cluster to
 * every edge in seq order, every core node takes a share of the work, and each node's health tells the truth about
 * that node.
 */
class ClusterTopologyTest {

  private final InJvmCluster cluster = new InJvmCluster();
  private final TestDatabase db = TestDatabase.shared();

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Test
  void aChangeMadeThroughOneEdgeReachesSubscribersOnEveryEdgeOnceAndInOrder() throws Exception {
    cluster.start(db, List.of(Node.CORE));
    InJvmCluster.Member writerEdge = cluster.start(db, List.of(Node.EDGE));
    InJvmCluster.Member readerEdge = cluster.start(db, List.of(Node.EDGE));
    String tenant = newId();
    String project = newId();
    List<WsClient> subscribers = List.of(
      cluster.connect(readerEdge, tenant, "reader-1", "viewer"),
      cluster.connect(readerEdge, tenant, "reader-2", "viewer"),
      cluster.connect(writerEdge, tenant, "reader-3", "viewer"));
    for (WsClient subscriber : subscribers) {
      assertTrue(subscriber.request(subscribe(project)).hasSubscribeAck());
    }
    int total = 90;
    List<CompletableFuture<ServerMessage>> acks = new ArrayList<>();
    try (WsClient writerA = cluster.connect(writerEdge, tenant, "writer-a", "member");
         WsClient writerB = cluster.connect(writerEdge, tenant, "writer-b", "member")) {
      for (int i = 0; i < total; i++) {
        WsClient writer = i % 2 == 0 ? writerA : writerB;
        acks.add(writer.sendPolitely(create(project, "change " + i).setMessageId(newId()).build()));
      }
      for (CompletableFuture<ServerMessage> ack : acks) {
        ServerMessage reply = ack.get(30, TimeUnit.SECONDS);
        assertTrue(reply.hasWorkItemAck(), reply::toString);
      }
    }
    List<Long> expected = LongStream.rangeClosed(1, total).boxed().toList();
    for (WsClient subscriber : subscribers) {
      assertEquals(expected, subscriber.events(total).stream().map(ChangeEvent::getSeq).toList());
      subscriber.request(ClientMessage.newBuilder().setPing(Ping.getDefaultInstance()));
      assertEquals(List.of(), subscriber.drainPushes(), "nothing twice");
      subscriber.close();
    }
  }

  @Test
  void everyCoreNodeTakesAShareOfTheWorkWhateverItsHandlerCount() throws Exception {
    InJvmCluster.Member oneHandler = cluster.start(db, List.of(Node.CORE));
    InJvmCluster.Member threeHandlers = cluster.start(db, List.of(Node.CORE),
      config -> config.put("workItems", new JsonObject().put("instances", 3)), InJvmCluster.loopback());
    InJvmCluster.Member edge = cluster.start(db, List.of(Node.EDGE));
    String project = newId();
    try (WsClient writer = cluster.connect(edge, newId(), "writer", "member")) {
      for (int i = 0; i < 40; i++) {
        assertTrue(writer.request(create(project, "work " + i)).hasWorkItemAck());
      }
    }
    double first = handled(oneHandler);
    double second = handled(threeHandlers);
    assertEquals(40, first + second);
    assertTrue(first >= 10 && second >= 10, "both core nodes work: " + first + " and " + second);
  }

  @Test
  void healthAndReadinessAreTrueToEachNode() {
    InJvmCluster.Member core = cluster.start(db, List.of(Node.CORE));
    InJvmCluster.Member edge = cluster.start(db, List.of(Node.EDGE));

    TestService.HttpResult edgeHealth = TestService.get(edge.port(), "/health");
    assertEquals(200, edgeHealth.status(), edgeHealth.body());
    String edgeText = edgeHealth.body();
    assertTrue(edgeText.contains("\"units\":[\"edge\"]"), edgeText);
    assertTrue(edgeText.contains("\"members\":2"), edgeText);
    assertTrue(edgeText.contains("\"id\":\"" + edge.id() + "\""), edgeText);
    assertTrue(edgeText.contains("\"answeredBy\":\"" + core.id() + "\""), "the core unit is reached: " + edgeText);
    assertFalse(edgeText.contains("\"database\""), "an edge node has no database of its own: " + edgeText);

    TestService.HttpResult coreReady = TestService.get(core.port(), "/health/ready");
    assertEquals(200, coreReady.status(), coreReady.body());
    assertTrue(coreReady.body().contains("\"database\":\"UP\""), coreReady.body());
    assertTrue(coreReady.body().contains("\"breaker\":\"CLOSED\""), coreReady.body());

    cluster.stop(core);
    TestService.HttpResult edgeReady = TestService.get(edge.port(), "/health/ready");
    assertEquals(503, edgeReady.status(), "an edge without a core unit cannot serve: " + edgeReady.body());
    assertTrue(edgeReady.body().contains("no core unit answered"), edgeReady.body());
    assertEquals(200, TestService.get(edge.port(), "/health/live").status());
  }

  @Test
  void aNodeThatJoinsLateCatchesUpAndThenReceivesLiveEvents() throws Exception {
    cluster.start(db, List.of(Node.CORE));
    InJvmCluster.Member first = cluster.start(db, List.of(Node.EDGE));
    String tenant = newId();
    String project = newId();
    try (WsClient writer = cluster.connect(first, tenant, "writer", "member")) {
      for (int i = 0; i < 5; i++) {
        assertTrue(writer.request(create(project, "before " + i)).hasWorkItemAck());
      }
      InJvmCluster.Member late = cluster.start(db, List.of(Node.EDGE));
      try (WsClient reader = cluster.connect(late, tenant, "reader", "viewer")) {
        assertTrue(reader.request(subscribeAfter(project, 0)).hasSubscribeAck());
        for (int i = 0; i < 5; i++) {
          assertTrue(writer.request(create(project, "after " + i)).hasWorkItemAck());
        }
        assertEquals(LongStream.rangeClosed(1, 10).boxed().toList(),
          reader.events(10).stream().map(ChangeEvent::getSeq).toList());
      }
    }
  }

  @Test
  void theEventBusRunsOverMutualTlsAndRefusesANodeWithoutTheClusterCertificate() throws Exception {
    SelfSignedCertificate clusterCa = SelfSignedCertificate.create("workstream-cluster");
    SelfSignedCertificate stranger = SelfSignedCertificate.create("stranger");
    try {
      cluster.start(db, List.of(Node.CORE), c -> c, tls(clusterCa));
      InJvmCluster.Member edge = cluster.start(db, List.of(Node.EDGE), c -> c, tls(clusterCa));
      String tenant = newId();
      String project = newId();
      try (WsClient client = cluster.connect(edge, tenant, "user", "member")) {
        assertTrue(client.request(subscribe(project)).hasSubscribeAck());
        ServerMessage ack = client.request(create(project, "over TLS"));
        assertEquals(ack.getWorkItemAck().getItem(), client.nextEvent().getCreated());
      }
      InJvmCluster.Member intruder = cluster.start(db, List.of(Node.EDGE), c -> c, tls(stranger));
      TestService.HttpResult ready = TestService.get(intruder.port(), "/health/ready");
      assertEquals(503, ready.status(), "a node without the cluster's certificate reaches no core unit: " + ready.body());
    } finally {
      clusterCa.delete();
      stranger.delete();
    }
  }

  /** Event-bus TLS with client authentication; the certificate is also the only trusted CA (a private CA of one). */
  private static VertxOptions tls(SelfSignedCertificate certificate) {
    VertxOptions options = InJvmCluster.loopback();
    options.getEventBusOptions()
      .setSsl(true)
      .setClientAuth(ClientAuth.REQUIRED)
      .setKeyCertOptions(certificate.keyCertOptions())
      .setTrustOptions(certificate.trustOptions());
    return options;
  }

  private static double handled(InJvmCluster.Member member) {
    return member.registry().find("workstream.work.items.handled").counters().stream()
      .mapToDouble(c -> c.count()).sum();
  }
}
