import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import nodemailer, { Transporter } from 'nodemailer';
import { request } from 'undici';
import type { NotificationChannel } from './notification.entities';
import type { NotificationMessage } from './notification-message';

/** Where notifications go: email through SMTP (nodemailer) and a JSON webhook, each when configured. */
@Injectable()
export class NotificationChannels implements OnApplicationShutdown {
  private readonly mail: Transporter | null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const n = config.notifications;
    this.mail =
      n.smtpUrl && n.emailTo.length
        ? nodemailer.createTransport(
            `${n.smtpUrl}${n.smtpUrl.includes('?') ? '&' : '?'}connectionTimeout=10000&greetingTimeout=10000&socketTimeout=20000`,
          )
        : null;
  }

  enabled(): NotificationChannel[] {
    return [
      ...(this.mail ? (['email'] as const) : []),
      ...(this.config.notifications.webhookUrl ? (['webhook'] as const) : []),
    ];
  }

  async send(channel: NotificationChannel, message: NotificationMessage): Promise<void> {
    if (channel === 'email') {
      if (!this.mail) throw new Error('email is not configured (SMTP_URL, NOTIFY_EMAIL_TO)');
      await this.mail.sendMail({
        from: this.config.notifications.emailFrom,
        to: this.config.notifications.emailTo,
        subject: message.subject,
        text: message.text,
      });
      return;
    }
    const url = this.config.notifications.webhookUrl;
    if (!url) throw new Error('the webhook is not configured (NOTIFY_WEBHOOK_URL)');
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(message),
      headersTimeout: 10000,
      bodyTimeout: 10000,
    });
    await res.body.text();
    if (res.statusCode >= 300) throw new Error(`webhook answered ${res.statusCode}`);
  }

  onApplicationShutdown(): void {
    this.mail?.close();
  }
}
