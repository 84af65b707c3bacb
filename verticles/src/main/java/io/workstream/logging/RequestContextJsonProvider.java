package io.workstream.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import com.fasterxml.jackson.core.JsonGenerator;
import io.workstream.bus.RequestContext;
import io.workstream.bus.RequestContexts;
import net.logstash.logback.composite.AbstractJsonProvider;

import java.io.IOException;

/**
 * Adds the request chain's {@code correlationId}, {@code tenantId} and {@code userId} to every JSON log line written
 * while the chain runs, so no call site passes them. Logging is synchronous, so the line is encoded on the thread
 * (and Vert.x context) that logged it.
 */
public final class RequestContextJsonProvider extends AbstractJsonProvider<ILoggingEvent> {

  @Override
  public void writeTo(JsonGenerator generator, ILoggingEvent event) throws IOException {
    RequestContext request = RequestContexts.current();
    if (request == null) {
      return;
    }
    generator.writeStringField("correlationId", request.correlationId());
    if (!request.tenantId().isEmpty()) {
      generator.writeStringField("tenantId", request.tenantId());
    }
    if (!request.userId().isEmpty()) {
      generator.writeStringField("userId", request.userId());
    }
  }
}
