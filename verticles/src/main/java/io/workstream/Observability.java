package io.workstream;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import io.workstream.config.Json;

/**
 * Metrics must be configured when Vert.x is created: the launcher and the tests both take them from here. The
 * registry is named ({@code metrics.registryName}, default {@code default}) so that several Vert.x instances in one
 * JVM — the tests — keep their meters apart.
 */
public final class Observability {

  public static final String DEFAULT_REGISTRY = "default";

  private Observability() {
  }

  public static VertxOptions withMetrics(VertxOptions options, String registryName) {
    return options.setMetricsOptions(new MicrometerMetricsOptions()
      .setEnabled(true)
      .setRegistryName(registryName)
      .setJvmMetricsEnabled(true)
      .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
  }

  public static String registryName(JsonObject config) {
    return Json.section(config, "metrics").getString("registryName", DEFAULT_REGISTRY);
  }

  /** The registry of this configuration's Vert.x; a private one when metrics are off, so meters still work. */
  public static MeterRegistry registry(JsonObject config) {
    MeterRegistry registry = BackendRegistries.getNow(registryName(config));
    return registry != null ? registry : new SimpleMeterRegistry();
  }
}
