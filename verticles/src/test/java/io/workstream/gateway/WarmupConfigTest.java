package io.workstream.gateway;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

/** The warm-up's rounds stay within the time after which the database treats a warm-up's data as left behind. */
class WarmupConfigTest {

  @Test
  void roundsTimesMaxMsIsAcceptedExactlyWhenItFitsTheWindow() {
    qt().withExamples(300).forAll(integers().between(-1, 30), integers().between(1, 700_000))
      .checkAssert((rounds, maxMs) -> {
        boolean fits = rounds >= 1 && (long) rounds * maxMs <= GatewayConfig.MAX_WARMUP_MS;
        assertEquals(fits, accepted(rounds, maxMs), rounds + " rounds of at most " + maxMs + " ms");
      });
  }

  @Test
  void twoRoundsByDefault() {
    assertEquals(2, GatewayConfig.from(config(new JsonObject().put("enabled", true))).warmup().rounds());
  }

  private static boolean accepted(int rounds, int maxMs) {
    try {
      GatewayConfig.from(config(new JsonObject().put("enabled", true).put("rounds", rounds).put("maxMs", maxMs)
        .put("subscribers", 10))).checked();
      return true;
    } catch (IllegalArgumentException refused) {
      return false;
    }
  }

  private static JsonObject config(JsonObject warmup) {
    return new JsonObject()
      .put("http", new JsonObject().put("host", "127.0.0.1"))
      .put("auth", new JsonObject().put("secret", GatewayConfig.DEVELOPMENT_SECRET))
      .put("gateway", new JsonObject().put("warmup", warmup));
  }
}
