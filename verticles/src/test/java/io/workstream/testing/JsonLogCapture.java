package io.workstream.testing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import io.vertx.core.json.JsonObject;
import io.workstream.logging.RequestContextJsonProvider;
import net.logstash.logback.encoder.LogstashEncoder;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The JSON lines one logger writes while it is attached, encoded as the service encodes them (logstash encoder with
 * the request-context provider), at the moment they are logged.
 */
public final class JsonLogCapture implements AutoCloseable {

  private final Logger logger;
  private final OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  public JsonLogCapture(Class<?> loggerOf) {
    logger = (Logger) LoggerFactory.getLogger(loggerOf);
    LogstashEncoder encoder = new LogstashEncoder();
    encoder.setContext(logger.getLoggerContext());
    encoder.addProvider(new RequestContextJsonProvider());
    encoder.start();
    appender.setContext(logger.getLoggerContext());
    appender.setEncoder(encoder);
    appender.setOutputStream(out);
    appender.start();
    logger.addAppender(appender);
  }

  public synchronized List<JsonObject> lines() {
    return out.toString(StandardCharsets.UTF_8).lines().map(JsonObject::new).toList();
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    appender.stop();
  }
}
