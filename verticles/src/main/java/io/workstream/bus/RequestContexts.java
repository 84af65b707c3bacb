package io.workstream.bus;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxBootstrap;
import io.vertx.core.spi.VertxServiceProvider;
import io.vertx.core.spi.context.storage.ContextLocal;

import java.util.function.Supplier;

/**
 * Carries the {@link RequestContext} of a request chain without any call site passing it: it lives in a Vert.x
 * context-local of the (duplicated) context the chain runs on; one outbound interceptor writes it into the headers
 * of every event-bus message sent from there, and one inbound interceptor restores it on the receiving side, on the
 * node that receives it. Log lines read it from the same place ({@code logging.RequestContextJsonProvider}).
 *
 * <p>Listed in {@code META-INF/services/io.vertx.core.spi.VertxServiceProvider}: the context-local must be
 * registered before the first Vert.x instance is created.
 */
public final class RequestContexts implements VertxServiceProvider {

  private static final ContextLocal<RequestContext> LOCAL = ContextLocal.registerLocal(RequestContext.class);

  @Override
  public void init(VertxBootstrap bootstrap) {
    // Loading this class registered the context-local; nothing else to do.
  }

  /** The context of the request chain running on the current Vert.x context, or null outside one. */
  public static RequestContext current() {
    Context context = Vertx.currentContext();
    return context == null ? null : context.getLocal(LOCAL);
  }

  /**
   * Runs {@code action} as the start of a request chain: on a fresh duplicate of the current context holding
   * {@code request}, so everything it sends, and every continuation of it, carries that context.
   */
  public static <T> Future<T> within(Vertx vertx, RequestContext request, Supplier<Future<T>> action) {
    ContextInternal chain = ((ContextInternal) vertx.getOrCreateContext()).duplicate();
    chain.putLocal(LOCAL, request);
    ContextInternal previous = chain.beginDispatch();
    try {
      return action.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    } finally {
      chain.endDispatch(previous);
    }
  }

  /** Installs the two interceptors once per Vert.x instance. */
  static void install(Vertx vertx) {
    if (vertx.sharedData().getLocalMap("workstream.bus").putIfAbsent("interceptors", Boolean.TRUE) != null) {
      return;
    }
    EventBus eventBus = vertx.eventBus();
    eventBus.addOutboundInterceptor(delivery -> {
      RequestContext request = current();
      if (request != null && !delivery.message().headers().contains(Headers.CORRELATION_ID)) {
        request.writeTo(delivery.message().headers());
      }
      delivery.next();
    });
    eventBus.addInboundInterceptor(delivery -> {
      RequestContext request = RequestContext.from(delivery.message().headers());
      Context context = Vertx.currentContext();
      if (request != null && context != null && ((ContextInternal) context).isDuplicate()) {
        context.putLocal(LOCAL, request);
      }
      delivery.next();
    });
  }

  /** For the service loader only. */
  public RequestContexts() {
  }
}
