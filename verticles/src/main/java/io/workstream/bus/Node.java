package io.workstream.bus;

import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.shareddata.Shareable;
import io.vertx.core.spi.cluster.ClusterManager;

import java.util.List;
import java.util.UUID;

/**
 * This node: its id (the cluster manager's node id when clustered, so node-scoped addresses and logs name the same
 * node the cluster does) and the deployment units it runs.
 */
public final class Node implements Shareable {

  public static final String EDGE = "edge";
  public static final String CORE = "core";

  private final String id;
  private volatile List<String> units = List.of();
  private volatile int httpPort;
  private volatile int managementPort;

  private Node(String id) {
    this.id = id;
  }

  public static Node of(Vertx vertx) {
    return vertx.sharedData().<String, Node>getLocalMap("workstream.node-identity")
      .computeIfAbsent("node", k -> new Node(clusterManager(vertx) != null
        ? clusterManager(vertx).getNodeId() : "local-" + UUID.randomUUID()));
  }

  public String id() {
    return id;
  }

  public List<String> units() {
    return units;
  }

  public boolean runs(String unit) {
    return units.contains(unit);
  }

  public void units(List<String> units) {
    this.units = List.copyOf(units);
  }

  /** The port this node's HTTP server listens on (0 until it does), for tools and tests that asked for port 0. */
  public int httpPort() {
    return httpPort;
  }

  public void httpPort(int port) {
    this.httpPort = port;
  }

  /** The port of this node's management routes (its HTTP port unless they have their own; 0 until listening). */
  public int managementPort() {
    return managementPort;
  }

  public void managementPort(int port) {
    this.managementPort = port;
  }

  /** The members of the cluster (just this node when not clustered). */
  public static List<String> members(Vertx vertx) {
    ClusterManager manager = clusterManager(vertx);
    return manager == null ? List.of(Node.of(vertx).id()) : manager.getNodes();
  }

  private static ClusterManager clusterManager(Vertx vertx) {
    return vertx.isClustered() ? ((VertxInternal) vertx).clusterManager() : null;
  }
}
