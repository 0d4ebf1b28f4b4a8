using System.Net;
using System.Net.Sockets;

namespace Ingest.Cli.Cluster;

/// <summary>Loopback TCP ports: a free one to listen on, and whether something answers on one.</summary>
public static class LoopbackPort
{
    /// <summary>A port nothing listens on now. Another process could take it before it is used; on loopback that is rare.</summary>
    public static int Free() => Free(1)[0];

    /// <summary><paramref name="count"/> different free ports: each is held until all are found.</summary>
    public static int[] Free(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listeners.Add(listener);
                listener.Start();
            }
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var listener in listeners)
                listener.Dispose();
        }
    }

    /// <summary>Whether something accepts connections on 127.0.0.1:<paramref name="port"/>.</summary>
    public static bool IsListening(int port)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
