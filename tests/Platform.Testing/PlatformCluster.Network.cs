using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Testing;

public sealed partial class PlatformCluster
{
    /// <summary>
    /// A silo's network plug. Every connection listener and connection factory the silo's Orleans networking resolves
    /// (silo-to-silo, gateway) goes through it; <see cref="CutAsync"/> unbinds the listeners, aborts every open
    /// connection and refuses new ones, which is what the rest of the cluster sees when a process dies.
    /// </summary>
    public sealed class NetworkPlug
    {
        private readonly ConcurrentQueue<ConnectionContext> _connections = new();
        private readonly ConcurrentQueue<IConnectionListener> _listeners = new();
        private volatile bool _cut;

        public bool IsCut => _cut;

        public async Task CutAsync()
        {
            _cut = true;
            while (_listeners.TryDequeue(out var listener))
            {
                try
                {
                    await listener.UnbindAsync();
                }
                catch (Exception)
                {
                    // Already closed.
                }
            }
            while (_connections.TryDequeue(out var connection))
            {
                connection.Abort(new ConnectionAbortedException("The silo crashed (test)."));
            }
        }

        internal ConnectionContext Track(ConnectionContext connection)
        {
            _connections.Enqueue(connection);
            if (_cut)
            {
                connection.Abort(new ConnectionAbortedException("The silo crashed (test)."));
            }
            return connection;
        }

        internal void Track(IConnectionListener listener) => _listeners.Enqueue(listener);

        /// <summary>
        /// The test cluster replaces Orleans' socket transport with an in-memory one that nothing outside this process
        /// (an Api host with its own Orleans client, a second client) can reach. Dropping those registrations brings
        /// back Orleans' own TCP sockets on the ports the test cluster allocated. Call once all registrations are in
        /// (from ConfigureContainer).
        /// </summary>
        internal static void UseTcp(IServiceCollection services)
        {
            for (var i = services.Count - 1; i >= 0; i--)
            {
                var d = services[i];
                if (d.IsKeyedService
                    && (d.ServiceType == typeof(IConnectionFactory) || d.ServiceType == typeof(IConnectionListenerFactory))
                    && d.KeyedImplementationFactory?.Method.DeclaringType?.Namespace?.StartsWith("Orleans.TestingHost", StringComparison.Ordinal) == true)
                {
                    services.RemoveAt(i);
                }
            }
        }

        /// <summary>Wraps every keyed connection (listener) factory registered so far; call it once all registrations
        /// are in (from ConfigureContainer).</summary>
        internal static void Install(IServiceCollection services)
        {
            UseTcp(services);
            var plug = new NetworkPlug();
            services.AddSingleton(plug);
            for (var i = 0; i < services.Count; i++)
            {
                var d = services[i];
                if (!d.IsKeyedService || (d.ServiceType != typeof(IConnectionFactory) && d.ServiceType != typeof(IConnectionListenerFactory)))
                {
                    continue;
                }
                services[i] = new ServiceDescriptor(d.ServiceType, d.ServiceKey, (sp, key) =>
                {
                    var inner = Create(d, sp, key);
                    return inner switch
                    {
                        IConnectionListenerFactory listeners => new PluggedListenerFactory(listeners, plug),
                        IConnectionFactory connections => new PluggedConnectionFactory(connections, plug),
                        _ => inner,
                    };
                }, d.Lifetime);
            }
        }

        private static object Create(ServiceDescriptor d, IServiceProvider sp, object? key) =>
            d.KeyedImplementationInstance
            ?? d.KeyedImplementationFactory?.Invoke(sp, key)
            ?? ActivatorUtilities.CreateInstance(sp, d.KeyedImplementationType!);
    }

    private sealed class PluggedListenerFactory(IConnectionListenerFactory inner, NetworkPlug plug) : IConnectionListenerFactory
    {
        public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
        {
            var listener = await inner.BindAsync(endpoint, cancellationToken);
            plug.Track(listener);
            return new PluggedListener(listener, plug);
        }
    }

    private sealed class PluggedListener(IConnectionListener inner, NetworkPlug plug) : IConnectionListener
    {
        public EndPoint EndPoint => inner.EndPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (true)
            {
                var connection = await inner.AcceptAsync(cancellationToken);
                if (connection is null || !plug.IsCut)
                {
                    return connection is null ? null : plug.Track(connection);
                }
                connection.Abort();
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => inner.UnbindAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private sealed class PluggedConnectionFactory(IConnectionFactory inner, NetworkPlug plug) : IConnectionFactory
    {
        public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
        {
            if (plug.IsCut)
            {
                throw new SocketException((int)SocketError.NetworkUnreachable);
            }
            return plug.Track(await inner.ConnectAsync(endpoint, cancellationToken));
        }
    }
}
