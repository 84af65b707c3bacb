package io.workstream;

import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.transport.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The launcher's cluster defaults and its repair of event-bus options read from an -options file. */
class WorkstreamLauncherTest {

  private static final List<String> PROPERTIES = List.of(WorkstreamLauncher.CLUSTER_NAME_PROPERTY,
    WorkstreamLauncher.CLUSTER_PORT_PROPERTY, WorkstreamLauncher.CLUSTER_MEMBERS_PROPERTY,
    WorkstreamLauncher.CLUSTER_INTERFACE_PROPERTY);
  private final Map<String, String> saved = new HashMap<>();

  @BeforeEach
  void clear() {
    PROPERTIES.forEach(p -> saved.put(p, System.clearProperty(p)));
  }

  @AfterEach
  void restore() {
    PROPERTIES.forEach(p -> restore(p, saved.get(p)));
  }

  @Test
  void clusterDefaultsToLoopbackWhenNothingIsSet() {
    WorkstreamLauncher.clusterDefaults(Map.of(), null);
    assertEquals("workstream", System.getProperty(WorkstreamLauncher.CLUSTER_NAME_PROPERTY));
    assertEquals("5801", System.getProperty(WorkstreamLauncher.CLUSTER_PORT_PROPERTY));
    assertEquals("127.0.0.1", System.getProperty(WorkstreamLauncher.CLUSTER_MEMBERS_PROPERTY));
    assertEquals("127.0.0.1", System.getProperty(WorkstreamLauncher.CLUSTER_INTERFACE_PROPERTY));
  }

  @Test
  void theHazelcastInterfaceFollowsClusterHost() {
    String host = WorkstreamLauncher.clusterHost(new String[]{"run", "io.workstream.MainVerticle", "-cluster",
      "-cluster-host", "10.0.0.5"});
    assertEquals("10.0.0.5", host);
    assertEquals("10.0.0.6", WorkstreamLauncher.clusterHost(new String[]{"--cluster-host=10.0.0.6"}));
    WorkstreamLauncher.clusterDefaults(Map.of("WORKSTREAM_CLUSTER_MEMBERS", "10.0.0.5,10.0.0.6"), host);
    assertEquals("10.0.0.5", System.getProperty(WorkstreamLauncher.CLUSTER_INTERFACE_PROPERTY));
    assertEquals("10.0.0.5,10.0.0.6", System.getProperty(WorkstreamLauncher.CLUSTER_MEMBERS_PROPERTY));
  }

  @Test
  void environmentNamesTheClusterUnlessTheSystemPropertyDoes() {
    WorkstreamLauncher.clusterDefaults(Map.of("WORKSTREAM_CLUSTER_NAME", "staging", "WORKSTREAM_CLUSTER_PORT", "6801"),
      null);
    assertEquals("staging", System.getProperty(WorkstreamLauncher.CLUSTER_NAME_PROPERTY));
    assertEquals("6801", System.getProperty(WorkstreamLauncher.CLUSTER_PORT_PROPERTY));

    System.setProperty(WorkstreamLauncher.CLUSTER_NAME_PROPERTY, "from-command-line");
    WorkstreamLauncher.clusterDefaults(Map.of("WORKSTREAM_CLUSTER_NAME", "staging"), null);
    assertEquals("from-command-line", System.getProperty(WorkstreamLauncher.CLUSTER_NAME_PROPERTY));
  }

  @Test
  void eventBusOptionsFromJsonGetTheDefaultsVertxLeavesOut() {
    VertxOptions options = new VertxOptions(new JsonObject()
      .put("eventBusOptions", new JsonObject().put("ssl", true).put("clientAuth", "REQUIRED")));
    EventBusOptions eventBus = options.getEventBusOptions();
    WorkstreamLauncher.restoreEventBusDefaults(eventBus);
    assertEquals(EventBusOptions.DEFAULT_RECONNECT_INTERVAL, eventBus.getReconnectInterval());
    assertEquals(EventBusOptions.DEFAULT_CONNECT_TIMEOUT, eventBus.getConnectTimeout());
    assertEquals(EventBusOptions.DEFAULT_ACCEPT_BACKLOG, eventBus.getAcceptBacklog());
  }

  private static void restore(String property, String value) {
    if (value == null) {
      System.clearProperty(property);
    } else {
      System.setProperty(property, value);
    }
  }

  @Test
  void theTransportIsChosenByNameAndAutoTakesAnAvailableOne() {
    assertEquals(Transport.NIO, WorkstreamLauncher.transport("nio"));
    assertTrue(WorkstreamLauncher.transport("auto").available());
    // Both native transports are bundled: auto prefers io_uring where the kernel allows it, then epoll.
    if (Transport.IO_URING.available()) {
      assertEquals(Transport.IO_URING, WorkstreamLauncher.transport("auto"));
    } else if (Transport.EPOLL.available()) {
      assertEquals(Transport.EPOLL, WorkstreamLauncher.transport("auto"));
    }
    assertThrows(IllegalArgumentException.class, () -> WorkstreamLauncher.transport("uring"));
  }
}
