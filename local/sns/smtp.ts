import net from 'node:net';

/**
 * Sends one plain-text email over SMTP (no auth, no TLS): enough to hand alerts to the local mail
 * catcher without another dependency. Subject and body are UTF-8, MIME-encoded.
 */
export interface Email {
  from: string;
  to: string;
  subject: string;
  text: string;
}

const encodeWord = (text: string) => (/^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text).toString('base64')}?=`);

export function formatEmail(email: Email, date = new Date()): string {
  const body = Buffer.from(email.text, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    `From: ${email.from}`,
    `To: ${email.to}`,
    `Subject: ${encodeWord(email.subject)}`,
    `Date: ${date.toUTCString()}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
    '',
    body,
  ].join('\r\n');
}

export function sendEmail(smtp: { host: string; port: number }, email: Email, timeoutMs = 10_000): Promise<void> {
  const address = (value: string) => value.match(/<([^>]+)>/)?.[1] ?? value;
  const commands = [
    'EHLO localhost',
    `MAIL FROM:<${address(email.from)}>`,
    `RCPT TO:<${address(email.to)}>`,
    'DATA',
    // Dot-stuffing is unnecessary: base64 lines never start with '.'.
    `${formatEmail(email)}\r\n.`,
    'QUIT',
  ];
  return new Promise((resolve, reject) => {
    const socket = net.connect(smtp.port, smtp.host);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`SMTP server ${smtp.host}:${smtp.port} did not answer in ${timeoutMs} ms`)));
    let buffer = '';
    let step = 0;
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      // A reply is complete when its last line is "NNN text" (not "NNN-text").
      let match: RegExpMatchArray | null;
      while ((match = buffer.match(/^(\d{3}) .*\r?\n/m))) {
        const end = buffer.indexOf(match[0]) + match[0].length;
        buffer = buffer.slice(end);
        const code = Number(match[1]);
        if (code >= 400) {
          socket.destroy();
          reject(new Error(`SMTP server refused the email: ${match[0].trim()}`));
          return;
        }
        if (step < commands.length) socket.write(`${commands[step++]}\r\n`);
        else socket.end();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => (step >= commands.length ? resolve() : reject(new Error('SMTP connection closed early'))));
  });
}
