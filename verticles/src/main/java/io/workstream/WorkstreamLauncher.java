package io.workstream;

import io.vertx.core.Launcher;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.workstream.config.Environment;

/**
 * The Vert.x CLI launcher ({@code run}, {@code -cluster}, {@code -instances}, {@code -conf}, {@code -ha}…) with
 * Workstream's two additions: the documented environment overrides are applied to the configuration, and
 * Prometheus metrics are enabled on the Vert.x instance it creates.
 */
public class WorkstreamLauncher extends Launcher {

  public static void main(String[] args) {
    new WorkstreamLauncher().dispatch(args);
  }

  @Override
  public void afterConfigParsed(JsonObject config) {
    Environment.apply(config, System.getenv());
  }

  @Override
  public void beforeStartingVertx(VertxOptions options) {
    if (options.getMetricsOptions() == null || !options.getMetricsOptions().isEnabled()) {
      Observability.withMetrics(options, Observability.DEFAULT_REGISTRY);
    }
  }
}
