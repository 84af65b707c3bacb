package io.workstream;

import io.vertx.core.json.JsonObject;
import io.workstream.gateway.GatewayConfig;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Settings that would let anyone who reaches the port mint tokens stop the start with a clear message. */
class SafeDefaultsTest {

  @Test
  void theDevelopmentSecretOnANonLoopbackAddressStopsTheStart() {
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    config.getJsonObject("http").put("host", "0.0.0.0");
    config.getJsonObject("auth").put("secret", GatewayConfig.DEVELOPMENT_SECRET);
    IllegalStateException refused = assertThrows(IllegalStateException.class, () -> TestService.start(config));
    assertTrue(causes(refused).contains("development JWT secret"), causes(refused));
  }

  @Test
  void theDevelopmentSecretOnLoopbackIsFineForALaptop() {
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    config.getJsonObject("auth").put("secret", GatewayConfig.DEVELOPMENT_SECRET);
    TestService.start(config).close();
  }

  @Test
  void aShortHs256SecretStopsTheStart() {
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    config.getJsonObject("auth").put("secret", "too-short-0123456789");
    IllegalStateException refused = assertThrows(IllegalStateException.class, () -> TestService.start(config));
    assertTrue(causes(refused).contains("at least 32 bytes"), causes(refused));
  }

  @Test
  void theProductionExampleRefusesToStartUntilItsSettingsAreGiven() throws Exception {
    JsonObject config = new JsonObject(java.nio.file.Files.readString(java.nio.file.Path.of("../conf/prod.json")));
    IllegalStateException refused = assertThrows(IllegalStateException.class, () -> TestService.start(config));
    String message = causes(refused);
    for (String named : new String[]{"auth.issuer", "auth.audience", "auth.secret", "db.url"}) {
      assertTrue(message.contains(named), named + " is not named: " + message);
    }
  }

  static String causes(Throwable failure) {
    StringBuilder text = new StringBuilder();
    for (Throwable t = failure; t != null; t = t.getCause()) {
      text.append(t.getMessage()).append(" | ");
    }
    return text.toString();
  }
}
