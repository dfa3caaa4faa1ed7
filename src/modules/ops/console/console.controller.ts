import { readFileSync } from 'node:fs';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Access } from '../../../platform/security/principal.js';

const PAGE = readFileSync(new URL('./console.html', import.meta.url), 'utf8');

/** The operations console: one static page that reads the admin and ops API with the token the user enters. */
@ApiExcludeController()
@Controller('console')
export class ConsoleController {
  @Get()
  @Access('public')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  @Header('content-security-policy', "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'")
  page(): string {
    return PAGE;
  }
}
