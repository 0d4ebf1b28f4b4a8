using System.Text;

namespace Ingest.Cli.Cluster;

/// <summary>
/// The balancer's nginx.conf: what a compose file's nginx service would do in front of the nodes.
/// Paths are relative to the prefix (<c>nginx -p</c>), so everything nginx writes stays in the
/// balancer's directory.
/// </summary>
internal static class NginxConfig
{
    public static string Render(int port, IEnumerable<int> nodePorts)
    {
        var upstream = new StringBuilder();
        foreach (var nodePort in nodePorts)
            upstream.Append($"        server 127.0.0.1:{nodePort} max_fails=1 fail_timeout=2s;\n");
        return $$"""
            # Written by `ingest cluster up` on every start (edits are overwritten), which runs
            # nginx -p <this directory> -c nginx.conf -e error.log -g 'daemon off;'
            worker_processes 1;
            pid nginx.pid;
            # SIGQUIT waits for open connections; a WebSocket may stay open for an hour.
            worker_shutdown_timeout 10s;

            events {
                worker_connections 4096;
            }

            http {
                access_log off;
                client_body_temp_path temp/client_body;
                proxy_temp_path temp/proxy;
                fastcgi_temp_path temp/fastcgi;
                uwsgi_temp_path temp/uwsgi;
                scgi_temp_path temp/scgi;

                # A node that refuses a connection is skipped for 2 s; requests go to the others meanwhile.
                upstream nodes {
            {{upstream}}    }

                map $http_upgrade $connection_upgrade {
                    default upgrade;
                    ''      close;
                }

                server {
                    listen 127.0.0.1:{{port}};
                    # Event streams are long and unbounded: no size limit, nothing buffered whole,
                    # an idle WebSocket kept for an hour.
                    client_max_body_size 0;

                    location / {
                        proxy_pass http://nodes;
                        proxy_http_version 1.1;
                        proxy_set_header Upgrade $http_upgrade;
                        proxy_set_header Connection $connection_upgrade;
                        proxy_set_header Host $http_host;
                        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                        proxy_set_header X-Forwarded-Proto $scheme;
                        proxy_request_buffering off;
                        proxy_buffering off;
                        proxy_read_timeout 1h;
                        proxy_send_timeout 1h;
                        proxy_connect_timeout 5s;
                        # Only before anything was sent: a POST is never sent to two nodes.
                        proxy_next_upstream error timeout;
                    }
                }
            }

            """;
    }
}
