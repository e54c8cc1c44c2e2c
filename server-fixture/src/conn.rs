//! One accepted connection, plain or TLS, behind a single Read + Write type,
//! and the three ways the fixture ends a connection: a clean close, a
//! silent close after a stall (same thing, later), and an abortive reset.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::{ServerConfig, ServerConnection, StreamOwned};

pub(crate) enum Conn {
    Plain(TcpStream),
    // Boxed: a rustls connection is large and the plain variant tiny.
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Conn {
    /// Wraps an accepted socket. For TLS the handshake happens lazily, on the
    /// first read, under the socket's read timeout.
    pub fn new(tcp: TcpStream, tls: Option<&Arc<ServerConfig>>) -> io::Result<Conn> {
        Ok(match tls {
            None => Conn::Plain(tcp),
            Some(config) => {
                let server = ServerConnection::new(Arc::clone(config)).map_err(io::Error::other)?;
                Conn::Tls(Box::new(StreamOwned::new(server, tcp)))
            }
        })
    }

    pub fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(tcp) => tcp,
            Conn::Tls(tls) => &tls.sock,
        }
    }

    /// Ends the response cleanly: TLS close_notify, then FIN. Afterwards we
    /// briefly read and discard whatever the client still sends (a late
    /// body, its own close_notify), because closing a socket with unread
    /// input makes the kernel send RST, which can make a client lose the tail
    /// of a response it has not read yet.
    pub fn finish(mut self) {
        if let Conn::Tls(tls) = &mut self {
            tls.conn.send_close_notify();
        }
        let _ = self.flush();
        let tcp = self.tcp();
        let _ = tcp.shutdown(Shutdown::Write);
        let _ = tcp.set_read_timeout(Some(Duration::from_millis(200)));
        let mut sink = [0u8; 4096];
        let mut tcp = tcp;
        let mut drained = 0;
        let deadline = Instant::now() + Duration::from_secs(1);
        while drained < 256 * 1024 && Instant::now() < deadline {
            match tcp.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    }

    /// Aborts the connection so the client sees a reset (ECONNRESET, or
    /// WSAECONNRESET on Windows): SO_LINGER with a zero timeout turns close()
    /// into an RST. We first wait (briefly) for the kernel to hand the bytes
    /// already written to the peer, since an abortive close throws away
    /// whatever is still queued for sending.
    pub fn reset(mut self) {
        let _ = self.flush();
        wait_for_send_queue(self.tcp(), Duration::from_secs(2));
        set_linger_zero(self.tcp());
        drop(self);
    }
}

/// Sets SO_LINGER to {on, 0 seconds}, so that closing the socket sends an RST
/// instead of a FIN. `TcpStream::set_linger` would do this portably, but it
/// is still unstable (feature `tcp_linger`, rust-lang/rust#88494), hence one
/// setsockopt call per platform. Failure is ignored: the connection then
/// just ends with a clean close.
#[cfg(unix)]
fn set_linger_zero(tcp: &TcpStream) {
    use std::os::fd::AsRawFd;

    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the fd is a valid socket borrowed from `tcp` for the duration
    // of the call; the option value is a properly sized `linger`.
    unsafe {
        libc::setsockopt(
            tcp.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

#[cfg(windows)]
fn set_linger_zero(tcp: &TcpStream) {
    use std::os::windows::io::AsRawSocket;
    use windows_sys::Win32::Networking::WinSock::{
        LINGER, SO_LINGER, SOCKET, SOL_SOCKET, setsockopt,
    };

    let linger = LINGER {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the socket is valid and borrowed from `tcp` for the duration
    // of the call; the option value is a properly sized `LINGER`.
    unsafe {
        setsockopt(
            tcp.as_raw_socket() as SOCKET,
            SOL_SOCKET,
            SO_LINGER,
            (&linger as *const LINGER).cast(),
            size_of::<LINGER>() as i32,
        );
    }
}

/// Polls until the socket's send queue is empty or the deadline passes.
fn wait_for_send_queue(tcp: &TcpStream, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        if !send_queue_pending(tcp) || Instant::now() >= deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Linux reports the bytes not yet acknowledged by the peer (TIOCOUTQ, aka
/// SIOCOUTQ), so we can reset the moment the peer has everything.
#[cfg(target_os = "linux")]
fn send_queue_pending(tcp: &TcpStream) -> bool {
    use std::os::fd::AsRawFd;

    let mut pending: libc::c_int = 0;
    // SAFETY: TIOCOUTQ writes one c_int through the pointer we pass; the fd
    // is a valid socket borrowed from `tcp`.
    let rc = unsafe { libc::ioctl(tcp.as_raw_fd(), libc::TIOCOUTQ, &mut pending) };
    rc == 0 && pending > 0
}

/// Elsewhere there is no simple, portable way to ask for the unsent byte
/// count (macOS has SO_NWRITE, Windows only SIO_TCP_INFO on recent versions,
/// which wine may not implement), so just give the peer a moment: on
/// loopback the bytes already written reach the client's receive buffer
/// well within that.
#[cfg(not(target_os = "linux"))]
fn send_queue_pending(_tcp: &TcpStream) -> bool {
    std::thread::sleep(Duration::from_millis(50));
    false
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(tcp) => tcp.read(buf),
            Conn::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(tcp) => tcp.write(buf),
            Conn::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(tcp) => tcp.flush(),
            Conn::Tls(tls) => tls.flush(),
        }
    }
}
