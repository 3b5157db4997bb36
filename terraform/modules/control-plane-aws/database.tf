# PostgreSQL: Aurora PostgreSQL Serverless v2 that pauses at 0 ACU when idle, unless an
# existing database is given by its Secrets Manager secret. RDS keeps the master password
# in Secrets Manager itself (manage_master_user_password): it never enters the state.

locals {
  create_database     = var.database_secret_arn == null
  database_secret_arn = local.create_database ? aws_rds_cluster.this[0].master_user_secret[0].secret_arn : var.database_secret_arn
  # Host and database name; the secret adds the credentials (and fills in what this leaves out).
  database_url = local.create_database ? "postgresql://${aws_rds_cluster.this[0].endpoint}:5432/pushflow" : "postgresql://"
}

resource "aws_db_subnet_group" "this" {
  count = local.create_database ? 1 : 0

  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "database" {
  count = local.create_database ? 1 : 0

  name        = "${var.name}-database"
  description = "pushflow database: PostgreSQL from the control plane function only"
  vpc_id      = local.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "database" {
  count = local.create_database || var.database_security_group_id != null ? 1 : 0

  security_group_id            = local.create_database ? aws_security_group.database[0].id : var.database_security_group_id
  description                  = "PostgreSQL from the pushflow control plane"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.function.id
}

resource "aws_rds_cluster" "this" {
  count = local.create_database ? 1 : 0

  cluster_identifier          = var.name
  engine                      = "aurora-postgresql"
  engine_mode                 = "provisioned"
  engine_version              = var.aurora_engine_version
  database_name               = "pushflow"
  master_username             = "pushflow"
  manage_master_user_password = true
  storage_encrypted           = true
  db_subnet_group_name        = aws_db_subnet_group.this[0].name
  vpc_security_group_ids      = [aws_security_group.database[0].id]
  deletion_protection         = var.deletion_protection
  skip_final_snapshot         = !var.deletion_protection
  final_snapshot_identifier   = var.deletion_protection ? "${var.name}-final" : null
  tags                        = var.tags

  serverlessv2_scaling_configuration {
    min_capacity             = var.aurora_min_capacity
    max_capacity             = var.aurora_max_capacity
    seconds_until_auto_pause = var.aurora_min_capacity == 0 ? var.aurora_seconds_until_auto_pause : null
  }
}

resource "aws_rds_cluster_instance" "this" {
  count = local.create_database ? 1 : 0

  identifier         = "${var.name}-1"
  cluster_identifier = aws_rds_cluster.this[0].id
  instance_class     = "db.serverless"
  engine             = aws_rds_cluster.this[0].engine
  engine_version     = aws_rds_cluster.this[0].engine_version
  tags               = var.tags
}
