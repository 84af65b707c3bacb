package io.workstream;

import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The launcher's cluster defaults and its repair of event-bus options read from an -options file. */
class WorkstreamLauncherTest {

  private String savedName;
  private String savedPort;

  @BeforeEach
  void clear() {
    savedName = System.clearProperty(WorkstreamLauncher.CLUSTER_NAME_PROPERTY);
    savedPort = System.clearProperty(WorkstreamLauncher.CLUSTER_PORT_PROPERTY);
  }

  @AfterEach
  void restore() {
    restore(WorkstreamLauncher.CLUSTER_NAME_PROPERTY, savedName);
    restore(WorkstreamLauncher.CLUSTER_PORT_PROPERTY, savedPort);
  }

  @Test
  void clusterNameAndPortDefaultWhenNothingIsSet() {
    WorkstreamLauncher.clusterDefaults(Map.of());
    assertEquals("workstream", System.getProperty(WorkstreamLauncher.CLUSTER_NAME_PROPERTY));
    assertEquals("5801", System.getProperty(WorkstreamLauncher.CLUSTER_PORT_PROPERTY));
  }

  @Test
  void environmentNamesTheClusterUnlessTheSystemPropertyDoes() {
    WorkstreamLauncher.clusterDefaults(Map.of("WORKSTREAM_CLUSTER_NAME", "staging", "WORKSTREAM_CLUSTER_PORT", "6801"));
    assertEquals("staging", System.getProperty(WorkstreamLauncher.CLUSTER_NAME_PROPERTY));
    assertEquals("6801", System.getProperty(WorkstreamLauncher.CLUSTER_PORT_PROPERTY));

    System.setProperty(WorkstreamLauncher.CLUSTER_NAME_PROPERTY, "from-command-line");
    WorkstreamLauncher.clusterDefaults(Map.of("WORKSTREAM_CLUSTER_NAME", "staging"));
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
}
