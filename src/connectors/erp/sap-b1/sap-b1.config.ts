import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, IsUrl, MaxLength } from 'class-validator';

/** SAP Business One Service Layer connection (session login with company database, user and password). */
export class SapB1Config {
  @ApiProperty({ example: 'https://b1.example.com:50000/b1s/v1' })
  @IsUrl({ require_tld: false, require_protocol: true })
  baseUrl: string;

  @ApiProperty({ example: 'SBODEMOUS' })
  @IsString() @IsNotEmpty() @MaxLength(100)
  companyDb: string;

  @ApiProperty()
  @IsString() @IsNotEmpty() @MaxLength(100)
  username: string;

  @ApiProperty({ description: 'Secret; masked in every response and log' })
  @IsString() @IsNotEmpty() @MaxLength(500)
  password: string;
}
