/** Column shapes for migrations written with TypeORM's Table API, so one migration runs on SQLite and PostgreSQL. */
export const str = (name: string, length: number, nullable = false) => ({ name, type: 'varchar', length: String(length), isNullable: nullable });
export const text = (name: string, nullable = false) => ({ name, type: 'text', isNullable: nullable });
export const int = (name: string, dflt?: number) => ({ name, type: 'integer', ...(dflt === undefined ? {} : { default: dflt }) });
export const bool = (name: string, dflt?: boolean) => ({ name, type: 'boolean', ...(dflt === undefined ? {} : { default: dflt }) });
export const key = (name: string, length: number) => ({ ...str(name, length), isPrimary: true });
