//! The delaying TCP proxy: one per source, on an ephemeral loopback port, in front of the
//! PostgreSQL cluster. It delays every chunk by a fixed one-way latency in each direction, with no
//! bandwidth limit: what a source some network distance away costs in round trips.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// Largest chunk the proxy reads before forwarding it (PostgreSQL messages are mostly far smaller).
const CHUNK_BYTES: usize = 64 * 1024;

/// Starts a proxy on an ephemeral loopback port forwarding to `upstream`, delaying every chunk by
/// `one_way` in each direction (so a request-response costs one RTT = 2 × `one_way` more). It runs
/// until `stop` is cancelled, which also closes every connection it relays.
pub(crate) async fn start_proxy(
    upstream: SocketAddr,
    one_way: Duration,
    stop: CancellationToken,
) -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                () = stop.cancelled() => break,
                a = listener.accept() => a,
            };
            match accepted {
                Ok((client, _)) => {
                    let stop = stop.clone();
                    tokio::spawn(async move {
                        tokio::select! {
                            () = stop.cancelled() => {}
                            r = relay(client, upstream, one_way) => if let Err(e) = r {
                                eprintln!("proxy :{port}: connection ended with {e}");
                            }
                        }
                    });
                }
                Err(e) => eprintln!("proxy :{port}: accept failed: {e}"),
            }
        }
    });
    Ok(port)
}

async fn relay(client: TcpStream, upstream: SocketAddr, one_way: Duration) -> std::io::Result<()> {
    let server = TcpStream::connect(upstream).await?;
    // Without TCP_NODELAY, Nagle's algorithm and delayed ACKs would add their own 40 ms stalls.
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::try_join!(
        delayed_pipe(client_read, server_write, one_way),
        delayed_pipe(server_read, client_write, one_way)
    )?;
    Ok(())
}

/// Copies `from` to `to`, writing each chunk `delay` after it was read: a link with a fixed one-way
/// latency and no bandwidth limit. Reading goes on while earlier chunks wait, so delays overlap
/// (as on a real link) instead of adding up chunk after chunk.
async fn delayed_pipe(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, delay: Duration) -> std::io::Result<()> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let reading = async move {
        let mut buf = vec![0_u8; CHUNK_BYTES];
        loop {
            let n = from.read(&mut buf).await?;
            if n == 0 || tx.send((tokio::time::Instant::now() + delay, buf[..n].to_vec())).is_err() {
                return Ok::<(), std::io::Error>(()); // dropping `tx` lets the writer drain and finish
            }
        }
    };
    let writing = async move {
        while let Some((due, chunk)) = rx.recv().await {
            // Zero delay forwards at once: even an elapsed timer costs a timer-wheel tick.
            if !delay.is_zero() {
                tokio::time::sleep_until(due).await;
            }
            to.write_all(&chunk).await?;
        }
        to.shutdown().await // pass the end of stream on
    };
    tokio::try_join!(reading, writing)?;
    Ok(())
}
