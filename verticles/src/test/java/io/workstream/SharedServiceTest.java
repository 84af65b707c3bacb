package io.workstream;

import io.workstream.testing.TestService;
import org.junit.jupiter.api.BeforeAll;

/** Tests that run against the service shared by the whole test JVM (see {@link TestService#shared()}). */
abstract class SharedServiceTest {

  static TestService service;

  @BeforeAll
  static void startService() {
    service = TestService.shared();
  }
}
