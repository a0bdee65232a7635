import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Response } from 'express';

const PUBLIC = path.join(__dirname, 'public');
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The dashboard: static assets built with the gateway and served by it (no CDN: it works offline). */
@ApiExcludeController()
@Controller()
export class DashboardController {
  @Get()
  index(@Res() res: Response): void {
    res.type('html').sendFile(path.join(PUBLIC, 'index.html'));
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    const full = path.join(PUBLIC, path.basename(file));
    const type = TYPES[path.extname(full)];
    if (!type || !fs.existsSync(full)) throw new NotFoundException();
    res.type(type).sendFile(full);
  }
}
