package io.workstream;

import io.vertx.core.Launcher;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.transport.Transport;
import io.workstream.config.Environment;

import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The Vert.x CLI launcher ({@code run}, {@code -cluster}, {@code -instances}, {@code -conf}, {@code -ha}…) with
 * Workstream's additions: the documented environment overrides are applied to the configuration,
 * Prometheus metrics are enabled on the Vert.x instance it creates with the transport {@code node.transport} names,
 * {@code node.eventLoops} sizes the event-loop pool (0: Vert.x's twice the
 * cores), and the Hazelcast settings that
 * {@code cluster.xml} reads from system properties (name, port, members, interface) always have a value.
 */
public class WorkstreamLauncher extends Launcher {

  /** The system property {@code cluster.xml} takes the cluster name from. */
  public static final String CLUSTER_NAME_PROPERTY = "workstream.cluster.name";
  /** The environment variable that names the cluster when the system property is not set. */
  public static final String CLUSTER_NAME_ENV = "WORKSTREAM_CLUSTER_NAME";
  public static final String DEFAULT_CLUSTER_NAME = "workstream";
  /** The system property {@code cluster.xml} takes the first Hazelcast member port from. */
  public static final String CLUSTER_PORT_PROPERTY = "workstream.cluster.port";
  public static final String CLUSTER_PORT_ENV = "WORKSTREAM_CLUSTER_PORT";
  public static final String DEFAULT_CLUSTER_PORT = "5801";

  /** The system property {@code cluster.xml} takes the TCP-IP member list from (comma-separated). */
  public static final String CLUSTER_MEMBERS_PROPERTY = "workstream.cluster.members";
  public static final String CLUSTER_MEMBERS_ENV = "WORKSTREAM_CLUSTER_MEMBERS";
  /** The system property {@code cluster.xml} takes the Hazelcast interface from. */
  public static final String CLUSTER_INTERFACE_PROPERTY = "workstream.cluster.interface";
  public static final String CLUSTER_INTERFACE_ENV = "WORKSTREAM_CLUSTER_INTERFACE";
  public static final String LOOPBACK = "127.0.0.1";

  private String transport = "auto";
  private int eventLoops;

  public static void main(String[] args) {
    // Netty's leak detector marks every buffer at every pipeline step: a measurable share of a fan-out. A service
    // runs without it (-Dio.netty.leakDetection.level=simple brings it back); the tests run with it.
    defaultProperty("io.netty.leakDetection.level", null, "disabled");
    clusterDefaults(System.getenv(), clusterHost(args));
    new WorkstreamLauncher().dispatch(args);
  }

  /**
   * Hazelcast 5.3 has no default syntax for {@code ${...}} in its XML (an unset property stays literal), so the
   * defaults are set here: the system property wins, then the environment variable, then the default. The
   * Hazelcast interface defaults to {@code clusterHost} (the launcher's {@code -cluster-host}), so that the member
   * and the event bus advertise the same address.
   */
  public static void clusterDefaults(Map<String, String> env, String clusterHost) {
    defaultProperty(CLUSTER_NAME_PROPERTY, env.get(CLUSTER_NAME_ENV), DEFAULT_CLUSTER_NAME);
    defaultProperty(CLUSTER_PORT_PROPERTY, env.get(CLUSTER_PORT_ENV), DEFAULT_CLUSTER_PORT);
    defaultProperty(CLUSTER_MEMBERS_PROPERTY, env.get(CLUSTER_MEMBERS_ENV), LOOPBACK);
    defaultProperty(CLUSTER_INTERFACE_PROPERTY, env.get(CLUSTER_INTERFACE_ENV),
      clusterHost == null ? LOOPBACK : clusterHost);
  }

  /** The value of {@code -cluster-host} (or {@code --cluster-host}, or {@code --cluster-host=h}), if given. */
  static String clusterHost(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if ((arg.equals("-cluster-host") || arg.equals("--cluster-host")) && i + 1 < args.length) {
        return args[i + 1];
      }
      if (arg.startsWith("-cluster-host=") || arg.startsWith("--cluster-host=")) {
        return arg.substring(arg.indexOf('=') + 1);
      }
    }
    return null;
  }

  private static void defaultProperty(String property, String fromEnv, String fallback) {
    String value = System.getProperty(property);
    if (value == null || value.isBlank()) {
      System.setProperty(property, fromEnv == null || fromEnv.isBlank() ? fallback : fromEnv.trim());
    }
  }

  @Override
  public void afterConfigParsed(JsonObject config) {
    Environment.apply(config, System.getenv());
    JsonObject node = config.getJsonObject("node", new JsonObject());
    transport = node.getString("transport", "auto");
    eventLoops = node.getInteger("eventLoops", 0);
  }

  @Override
  public void beforeStartingVertx(VertxOptions options) {
    restoreEventBusDefaults(options.getEventBusOptions());
    if (eventLoops > 0) {
      options.setEventLoopPoolSize(eventLoops);
    }
    if (options.getMetricsOptions() == null || !options.getMetricsOptions().isEnabled()) {
      Observability.withMetrics(options, Observability.DEFAULT_REGISTRY);
    }
  }

  @Override
  public VertxBuilder createVertxBuilder(VertxOptions options) {
    return super.createVertxBuilder(options).withTransport(transport(transport));
  }

  /**
   * {@code auto}: Linux's io_uring where the kernel allows it, else epoll, else Java NIO; or one of them by name
   * ({@code io_uring}, {@code epoll}, {@code nio}). A named native transport the machine lacks falls back to NIO,
   * which Vert.x logs.
   */
  static Transport transport(String name) {
    return switch (name) {
      case "auto" -> Stream.of(Transport.IO_URING, Transport.EPOLL)
        .filter(t -> t != null && t.available()).findFirst().orElse(Transport.NIO);
      case "io_uring" -> Objects.requireNonNullElse(Transport.IO_URING, Transport.NIO);
      case "epoll" -> Objects.requireNonNullElse(Transport.EPOLL, Transport.NIO);
      case "nio" -> Transport.NIO;
      default -> throw new IllegalArgumentException("node.transport must be auto, io_uring, epoll or nio, not " + name);
    };
  }

  /**
   * Vert.x 5.0.7's {@code new EventBusOptions(JsonObject)} (used for {@code -options}) leaves
   * {@code reconnectInterval}, {@code connectTimeout} and {@code acceptBacklog} at 0 instead of their defaults, and a
   * clustered start then fails with "reconnect interval must be >= 1". An options file that names
   * {@code eventBusOptions} at all (event-bus TLS does) hits it; put back the defaults it left out.
   */
  static void restoreEventBusDefaults(EventBusOptions eventBus) {
    if (eventBus.getReconnectInterval() < 1) {
      eventBus.setReconnectInterval(EventBusOptions.DEFAULT_RECONNECT_INTERVAL);
    }
    if (eventBus.getConnectTimeout() < 1) {
      eventBus.setConnectTimeout(EventBusOptions.DEFAULT_CONNECT_TIMEOUT);
    }
    if (eventBus.getAcceptBacklog() == 0) {
      eventBus.setAcceptBacklog(EventBusOptions.DEFAULT_ACCEPT_BACKLOG);
    }
  }
}
